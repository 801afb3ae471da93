/** One timer for every live view: redraws happen together, once a second, whatever the number of charts. */
const callbacks = new Set<(now: number) => void>();
let timer: ReturnType<typeof setInterval> | undefined;

export function onTick(callback: (now: number) => void): () => void {
  callbacks.add(callback);
  timer ??= setInterval(() => {
    const now = Date.now();
    for (const fn of callbacks) fn(now);
  }, 1000);
  return () => {
    callbacks.delete(callback);
    if (callbacks.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}
