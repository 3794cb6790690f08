// The S3 artifact backend's settings, from WHARF_S3_* environment variables (the raw → validated →
// compiled stages of master-config.ts, in one function). No WHARF_S3_ENDPOINT means no S3: artifacts stay on
// the master's disk. It returns its problems instead of throwing so that master-config.ts
// can list them with its own in one ConfigError (and so this file does not import it back).
//
//   WHARF_S3_ENDPOINT    http(s)://host[:port] of the S3/MinIO service, e.g. http://127.0.0.1:9000;
//                        workers must reach the same address (presigned URLs point at it)
//   WHARF_S3_BUCKET      bucket name (created if missing)
//   WHARF_S3_ACCESS_KEY  access key id
//   WHARF_S3_SECRET_KEY  secret access key
//   WHARF_S3_REGION      default us-east-1
export interface S3Config {
  /** the endpoint as given, without a trailing slash */
  endpoint: string;
  /** host name or address for the minio client */
  endPoint: string;
  port: number;
  useSSL: boolean;
  bucket: string;
  accessKey: string;
  secretKey: string;
  region: string;
}

export const S3_ENV = ['WHARF_S3_ENDPOINT', 'WHARF_S3_BUCKET', 'WHARF_S3_ACCESS_KEY', 'WHARF_S3_SECRET_KEY', 'WHARF_S3_REGION'] as const;

/** S3 bucket naming rules (the subset every S3 service accepts). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z0-9-]{1,64}$/;

export interface S3ConfigResult {
  /** undefined when S3 is not configured or a problem was found */
  config: S3Config | undefined;
  /** one message per problem, each naming the variable to set */
  problems: string[];
}

/** Reads the S3 settings. Without WHARF_S3_ENDPOINT: no config and no problems (unless other WHARF_S3_* are set). */
export function parseS3Config(env: NodeJS.ProcessEnv): S3ConfigResult {
  const value = (name: (typeof S3_ENV)[number]): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const endpoint = value('WHARF_S3_ENDPOINT');
  if (endpoint === undefined) {
    const stray = S3_ENV.filter((name) => value(name) !== undefined);
    if (stray.length > 0) {
      return { config: undefined, problems: [`${stray.join(', ')} ${stray.length === 1 ? 'is' : 'are'} set but WHARF_S3_ENDPOINT is not; set it to use S3 for artifacts`] };
    }
    return { config: undefined, problems: [] };
  }
  const problems: string[] = [];
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    problems.push(`WHARF_S3_ENDPOINT must be a URL such as http://127.0.0.1:9000 (got "${endpoint}")`);
  }
  if (url) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(`WHARF_S3_ENDPOINT must start with http:// or https:// (got "${endpoint}")`);
    if (url.pathname !== '/' && url.pathname !== '') problems.push(`WHARF_S3_ENDPOINT must not have a path; put the bucket in WHARF_S3_BUCKET (got "${endpoint}")`);
    if (url.username || url.password) problems.push('WHARF_S3_ENDPOINT must not carry credentials; use WHARF_S3_ACCESS_KEY and WHARF_S3_SECRET_KEY');
    if (url.search || url.hash) problems.push(`WHARF_S3_ENDPOINT must not have a query or fragment (got "${endpoint}")`);
  }
  const bucket = value('WHARF_S3_BUCKET');
  if (bucket === undefined) problems.push('WHARF_S3_BUCKET is required with WHARF_S3_ENDPOINT');
  else if (!BUCKET.test(bucket) || bucket.includes('..')) problems.push(`WHARF_S3_BUCKET must be 3 to 63 lowercase letters, digits, "." or "-" (got "${bucket}")`);
  const accessKey = value('WHARF_S3_ACCESS_KEY');
  if (accessKey === undefined) problems.push('WHARF_S3_ACCESS_KEY is required with WHARF_S3_ENDPOINT');
  const secretKey = value('WHARF_S3_SECRET_KEY');
  if (secretKey === undefined) problems.push('WHARF_S3_SECRET_KEY is required with WHARF_S3_ENDPOINT');
  const region = value('WHARF_S3_REGION') ?? 'us-east-1';
  if (!REGION.test(region)) problems.push(`WHARF_S3_REGION must be a region name such as us-east-1 (got "${region}")`);
  if (problems.length > 0 || !url) return { config: undefined, problems };
  const useSSL = url.protocol === 'https:';
  const config: S3Config = {
    endpoint: `${url.protocol}//${url.host}`,
    endPoint: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : useSSL ? 443 : 80,
    useSSL,
    bucket: bucket!,
    accessKey: accessKey!,
    secretKey: secretKey!,
    region,
  };
  return { config, problems: [] };
}
