/**
 * Version strings as used by `schemaVersion` and `runOnRequirement`: `<major>[.<minor>[.<patch>]]`,
 * missing components are zero, and anything after the patch (e.g. `-alpha4-271-g7d5cf02`) is discarded.
 */
export type Version = readonly [number, number, number];

export function parseVersion(text: string): Version {
  const m = /^\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(text);
  if (!m) throw new Error(`invalid version string "${text}"`);
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

/** Negative, zero or positive as `a` is lower than, equal to or greater than `b`, component by component. */
export function compareVersions(a: string | Version, b: string | Version): number {
  const va = typeof a === 'string' ? parseVersion(a) : a;
  const vb = typeof b === 'string' ? parseVersion(b) : b;
  for (let i = 0; i < 3; i++) {
    if (va[i] !== vb[i]) return va[i] - vb[i];
  }
  return 0;
}

export function formatVersion(v: Version): string {
  return v.join('.');
}
