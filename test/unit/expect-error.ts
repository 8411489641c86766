/** The `type` of the DrillError a call throws, or undefined when it does not throw. */
export function errorType(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { type?: string }).type;
  }
  return undefined;
}
