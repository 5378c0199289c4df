/**
 * npm runs a script through a shell (`sh -c`, `cmd.exe /d /s /c`) and forwards SIGTERM to that shell only; the
 * shell dies without passing it on, and the script's node process is left orphaned, holding its ports. So a
 * process npm started calls `onGone` once its parent has gone: reparented (Unix), or no longer running (Windows
 * keeps reporting the dead parent's id).
 */
export function watchParent(onGone: () => void, intervalMs = 500): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent && isRunning(parent)) return;
    clearInterval(timer);
    onGone();
  }, intervalMs);
  // The watch alone never keeps the process alive.
  timer.unref();
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
