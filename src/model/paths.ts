/**
 * Image paths are relative, normalised and stay inside the image root: this is checked when
 * a manifest is parsed, so nothing later has to trust a path it was handed.
 * Returns why the path is unacceptable, or null when it is fine.
 */
export function imagePathProblem(p: string): string | null {
  if (p.length === 0) return 'is empty';
  if (p.includes('\0')) return 'contains a NUL byte';
  if (p.startsWith('/')) return 'is absolute; expected a path relative to the image root';
  // One scan over the components (split and two passes were a tenth of manifest parsing).
  let notNormal = false;
  for (let start = 0; start <= p.length;) {
    let end = p.indexOf('/', start);
    if (end === -1) end = p.length;
    const len = end - start;
    if (len === 2 && p.charCodeAt(start) === 46 && p.charCodeAt(start + 1) === 46)
      return "contains '..'; expected a path inside the image";
    if (len === 0 || (len === 1 && p.charCodeAt(start) === 46)) notNormal = true;
    start = end + 1;
  }
  if (notNormal) return "is not normalised (empty or '.' component, or trailing '/')";
  return null;
}
