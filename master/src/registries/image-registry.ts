// Which registry an image lives on, and a registry named the way people write it, in one form,
// so stored credentials match images: "ghcr.io/acme/app:1" -> "ghcr.io", "busybox" ->
// "docker.io", "https://index.docker.io/v1/" -> "docker.io", "Registry.Example:5000/" ->
// "registry.example:5000". Docker's rule: the first path component of an image is a registry
// when it has a "." or a ":" or is "localhost"; otherwise the image is on Docker Hub.

/** Docker Hub's names, all stored as "docker.io". */
const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);
const HOST = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::[0-9]{1,5})?$|^\[[0-9a-f:.]+\](?::[0-9]{1,5})?$/;

export function registryOfImage(image: string): string {
  const slash = image.indexOf('/');
  if (slash < 0) return 'docker.io';
  const first = image.slice(0, slash).toLowerCase();
  if (first.includes('.') || first.includes(':') || first === 'localhost') return DOCKER_HUB.has(first) ? 'docker.io' : first;
  return 'docker.io';
}

/** host[:port] from what a person wrote ("https://host:5000/v2/" included), or undefined when it is not a registry address. */
export function normaliseRegistry(input: string): string | undefined {
  let value = input.trim().toLowerCase();
  value = value.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  value = value.split('/')[0] ?? '';
  if (value === '' || value.length > 255 || !HOST.test(value)) return undefined;
  return DOCKER_HUB.has(value) ? 'docker.io' : value;
}
