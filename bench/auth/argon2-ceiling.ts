import { availableParallelism } from "node:os";
import { verify } from "@node-rs/argon2";
import { PasswordHasher } from "../../services/auth/src/crypto/password-hasher.ts";

/**
 * The argon2id ceiling: raw `@node-rs/argon2` verifications per second with the service's parameters, in a
 * process started like the service (same core, same UV_THREADPOOL_SIZE). Measured two ways, and the better
 * one is the ceiling: one verification in flight per CPU the process may use (what the service's hasher
 * allows), and the thread pool kept full (two per pool thread). Prints one JSON line per way, the ceiling
 * last: count, wall seconds and CPU seconds.
 * Usage: node argon2-ceiling.ts <seconds> <memoryKiB> <timeCost> <parallelism>
 */
const [seconds = 10, memoryCost = 19456, timeCost = 2, parallelism = 1] = process.argv.slice(2).map(Number);
const password = "tortuga violeta bajo la lluvia";
const passwordHash = await new PasswordHasher({ memoryCost, timeCost, parallelism }).hash(password);

const run = async (inFlight: number, ms: number) => {
  let count = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        if (!(await verify(passwordHash, password))) throw new Error("argon2 verify failed");
        count += 1;
      }
    }),
  );
  return count;
};

const measure = async (inFlight: number) => {
  // One second of warm-up so the pool's threads and their memory exist before counting.
  await run(inFlight, 1_000);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const verifies = await run(inFlight, seconds * 1000);
  const wall = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const result = { inFlight, verifies, seconds: wall, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  console.log(JSON.stringify(result));
  return result;
};

const ways = [
  await measure(availableParallelism()),
  await measure(Number(process.env.UV_THREADPOOL_SIZE ?? 4) * 2),
];
const best = ways.reduce((a, b) => (b.verifies / b.cpuSeconds > a.verifies / a.cpuSeconds ? b : a));
console.log(JSON.stringify(best));
