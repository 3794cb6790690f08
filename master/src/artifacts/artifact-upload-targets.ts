// Where a worker PUTs the declared outputs of a DAG task when artifacts live in an object store
// (gRPC PrepareArtifactUploads): a presigned PUT URL per artifact the bucket does not hold yet,
// `alreadyStored` for the others, so identical bytes never move twice. The caller (the gateway)
// has checked that the attempt is the worker's; this checks that every name is one of the
// task's declared outputs, named once, with a well-formed digest.
import { WharfError } from '../errors.js';
import { assertArtifactRef, type ArtifactBackend, type ArtifactRef } from './artifact-backend.js';

export interface NamedArtifact extends ArtifactRef {
  name: string;
}

export interface ArtifactUploadTarget {
  name: string;
  sha256: string;
  /** presigned PUT URL; empty when alreadyStored */
  putUrl: string;
  alreadyStored: boolean;
}

/** Presigned PUT URLs for outputs live this long: S3 checks expiry when a PUT starts, so a slow upload that began in time finishes. */
export const UPLOAD_URL_EXPIRY_SECONDS = 3600;

export async function prepareArtifactUploads(
  backend: ArtifactBackend,
  declaredOutputs: readonly string[],
  requested: readonly NamedArtifact[],
): Promise<ArtifactUploadTarget[]> {
  const presign = backend.presignedPutUrl?.bind(backend);
  if (!presign || !backend.confirmUpload) {
    throw new WharfError('conflict', 'this master keeps artifacts on its own disk; outputs are uploaded with the task\'s files (UploadTaskFiles)');
  }
  const seen = new Set<string>();
  requested.forEach((artifact, i) => {
    if (!declaredOutputs.includes(artifact.name)) {
      throw new WharfError('forbidden', `artifacts[${i}]: "${artifact.name}" is not a declared output of this task (it declares ${declaredOutputs.map((n) => `"${n}"`).join(', ') || 'none'})`);
    }
    if (seen.has(artifact.name)) throw new WharfError('validation_failed', `artifacts[${i}]: "${artifact.name}" is named twice`);
    seen.add(artifact.name);
    try {
      assertArtifactRef(artifact);
    } catch (error: unknown) {
      throw new WharfError('validation_failed', `artifacts[${i}] ("${artifact.name}"): ${WharfError.from(error).message}`);
    }
  });
  const targets: ArtifactUploadTarget[] = [];
  for (const artifact of requested) {
    const stored = await backend.stat(artifact.sha256);
    // an object of another size under this digest is not these bytes: it is replaced
    if (stored && stored.size === artifact.size) {
      targets.push({ name: artifact.name, sha256: artifact.sha256, putUrl: '', alreadyStored: true });
    } else {
      targets.push({ name: artifact.name, sha256: artifact.sha256, putUrl: await presign(artifact.sha256, UPLOAD_URL_EXPIRY_SECONDS), alreadyStored: false });
    }
  }
  return targets;
}

/**
 * When a worker's result is applied: the declared outputs it reports as put into the object
 * store must match the task files it uploaded (same sha256 and size) and be in the bucket with
 * that size (confirmUpload). Answers why not, or undefined when all is well.
 */
export async function confirmDirectUploads(
  backend: ArtifactBackend,
  declaredOutputs: readonly string[],
  files: readonly { path: string; sha256: string; size: number }[],
  reported: readonly NamedArtifact[],
): Promise<string | undefined> {
  if (!backend.confirmUpload) return 'this master keeps artifacts on its own disk and takes no direct uploads';
  for (const name of declaredOutputs) {
    const file = files.find((f) => f.path === name);
    if (!file) continue; // a declared output not written at all is reported by the task service
    const artifact = reported.find((a) => a.name === name);
    if (!artifact) return `declared output "${name}" was not uploaded to the object store`;
    if (artifact.sha256 !== file.sha256 || artifact.size !== file.size) {
      return `declared output "${name}": the worker reported ${artifact.size} bytes with sha256 ${artifact.sha256} for the object store, but the task's file has ${file.size} bytes with sha256 ${file.sha256}`;
    }
    try {
      await backend.confirmUpload({ sha256: artifact.sha256, size: artifact.size });
    } catch (error: unknown) {
      return `declared output "${name}" is not in the object store as reported: ${WharfError.from(error).message}`;
    }
  }
  return undefined;
}
