import { describe, expect, it } from 'vitest';
import { parseS3Config } from './s3-config.js';

const full = {
  WHARF_S3_ENDPOINT: 'http://127.0.0.1:9000',
  WHARF_S3_BUCKET: 'wharf-artifacts',
  WHARF_S3_ACCESS_KEY: 'AKID',
  WHARF_S3_SECRET_KEY: 'secret',
};

describe('parseS3Config', () => {
  it('is off without WHARF_S3_ENDPOINT', () => {
    expect(parseS3Config({})).toEqual({ config: undefined, problems: [] });
  });

  it('reads a complete configuration with the default region', () => {
    expect(parseS3Config(full)).toEqual({
      config: {
        endpoint: 'http://127.0.0.1:9000',
        endPoint: '127.0.0.1',
        port: 9000,
        useSSL: false,
        bucket: 'wharf-artifacts',
        accessKey: 'AKID',
        secretKey: 'secret',
        region: 'us-east-1',
      },
      problems: [],
    });
  });

  it('knows https, default ports and a given region', () => {
    const { config } = parseS3Config({ ...full, WHARF_S3_ENDPOINT: 'https://s3.example.com/', WHARF_S3_REGION: 'eu-west-1' });
    expect(config).toMatchObject({ endpoint: 'https://s3.example.com', endPoint: 's3.example.com', port: 443, useSSL: true, region: 'eu-west-1' });
    expect(parseS3Config({ ...full, WHARF_S3_ENDPOINT: 'http://[::1]:9000' }).config).toMatchObject({ endPoint: '::1', port: 9000 });
  });

  it('names every missing or wrong setting', () => {
    expect(parseS3Config({ WHARF_S3_ENDPOINT: 'ftp://x/bucket' }).problems).toEqual([
      'WHARF_S3_ENDPOINT must start with http:// or https:// (got "ftp://x/bucket")',
      'WHARF_S3_ENDPOINT must not have a path; put the bucket in WHARF_S3_BUCKET (got "ftp://x/bucket")',
      'WHARF_S3_BUCKET is required with WHARF_S3_ENDPOINT',
      'WHARF_S3_ACCESS_KEY is required with WHARF_S3_ENDPOINT',
      'WHARF_S3_SECRET_KEY is required with WHARF_S3_ENDPOINT',
    ]);
    expect(parseS3Config({ ...full, WHARF_S3_ENDPOINT: 'not a url' }).problems).toEqual(['WHARF_S3_ENDPOINT must be a URL such as http://127.0.0.1:9000 (got "not a url")']);
    expect(parseS3Config({ ...full, WHARF_S3_BUCKET: 'Bad_Bucket' }).problems).toEqual([
      'WHARF_S3_BUCKET must be 3 to 63 lowercase letters, digits, "." or "-" (got "Bad_Bucket")',
    ]);
    expect(parseS3Config({ ...full, WHARF_S3_REGION: 'Mars 1' }).problems).toHaveLength(1);
  });

  it('refuses S3 settings without an endpoint instead of ignoring them', () => {
    expect(parseS3Config({ WHARF_S3_BUCKET: 'b', WHARF_S3_SECRET_KEY: 's' }).problems).toEqual([
      'WHARF_S3_BUCKET, WHARF_S3_SECRET_KEY are set but WHARF_S3_ENDPOINT is not; set it to use S3 for artifacts',
    ]);
  });
});
