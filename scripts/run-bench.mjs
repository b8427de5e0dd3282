// Runs every bench/*.bench.ts file in turn and writes their Markdown sections, with the
// machine and the command, to docs/benchmarks.md. Progress goes to stderr. Pass file names
// to run a subset: `npm run bench -- bench/files.bench.ts`.
import { spawnSync } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";

const selected = process.argv.slice(2);
const files =
  selected.length > 0
    ? selected
    : readdirSync("bench")
        .filter((name) => name.endsWith(".bench.ts"))
        .sort()
        .map((name) => join("bench", name));

const sections = [];
for (const file of files) {
  console.error(`bench: running ${file}`);
  const started = Date.now();
  const result = spawnSync(process.execPath, ["--import", "tsx", file], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    console.error(`bench: ${file} failed with exit code ${result.status}`);
    sections.push(`## ${file}\n\nFailed with exit code ${result.status}.\n`);
  } else {
    console.error(`bench: ${file} finished in ${seconds} s`);
    sections.push(result.stdout.trim() + "\n");
  }
}

const cpu = cpus();
const header = [
  "# Benchmarks",
  "",
  `Written by \`npm run bench\` on ${new Date().toISOString()}.`,
  "",
  `- Machine: ${cpu.length} × ${cpu[0]?.model ?? "unknown CPU"}, ` +
    `${(totalmem() / 2 ** 30).toFixed(1)} GiB memory`,
  `- Node.js ${process.version}, ${process.platform} ${process.arch}`,
  `- Command: \`npm run bench${selected.length > 0 ? " -- " + selected.join(" ") : ""}\``,
  "",
].join("\n");
const report = header + "\n" + sections.join("\n");
if (selected.length === 0) writeFileSync("docs/benchmarks.md", report);
process.stdout.write(report);
