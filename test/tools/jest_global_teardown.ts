/** Stops the deployment jest_global_setup.ts started, if any. */
export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __mongowireStop?: () => Promise<void> }).__mongowireStop?.();
}
