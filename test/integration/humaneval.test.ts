/**
 * HumanEval through real python3 in the sandbox: the canonical solutions pass, mutations fail, and
 * completions that misbehave (loop, fork, allocate, write outside, connect) are stopped or
 * contained with a clear outcome. Runs go at most two at a time (the machine is shared).
 */
import {strict as assert} from "node:assert";
import {execFileSync, spawnSync} from "node:child_process";
import {chmod, mkdir, mkdtemp, rm, stat} from "node:fs/promises";
import {createServer, type Server} from "node:net";
import {tmpdir} from "node:os";
import path from "node:path";
import {loadDataset, type CodeProblem} from "../../src/eval/datasets.js";
import {gradeCompletion} from "../../src/eval/grade.js";
import {runHumanEval} from "../../src/eval/humaneval.js";
import {describeIsolation, PythonSandbox, type SandboxResult, type SandboxRunOptions} from "../../src/eval/sandbox.js";
import {CancelledError} from "../../src/sampling/errors.js";
import {SHARED_DIR} from "../support/shared.js";

const CONCURRENCY = 2;
/** Small limits for the misbehaving programs, which are stopped by them; the default 10 s wall time is left for a loaded machine. */
const TIGHT: SandboxRunOptions = {limits: {memoryBytes: 256 * 1024 ** 2, fileSizeBytes: 1024 ** 2}};
/** For the program that only the wall time stops. */
const SHORT: SandboxRunOptions = {limits: {timeoutMs: 3000}};

/** The processes whose command line contains the marker (a sleep a test started with a distinctive duration). */
function processesWith(marker: string): string[] {
    return execFileSync("ps", ["-eo", "args"], {encoding: "utf8"}).split("\n").filter((line) => line.includes(marker));
}

/** Whether user, PID, network and mount namespaces work for the kind of user the sandbox runs as. */
function namespacesAvailable(): boolean {
    if (process.platform !== "linux") return false;
    const uid = process.getuid?.() === 0 ? 1 << 25 : undefined;
    const probe = spawnSync("unshare", ["--user", "--map-root-user", "--pid", "--fork", "--net", "--mount", "true"], {uid, gid: uid});
    return probe.status === 0;
}

async function inPool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array<R>(items.length);
    let next = 0;
    const worker = async () => {
        for (let index = next++; index < items.length; index = next++) results[index] = await work(items[index]);
    };
    await Promise.all(Array.from({length: limit}, worker));
    return results;
}

const explain = (result: SandboxResult) => `${result.outcome}: ${result.detail}\n${result.output}`;

describe("HumanEval in the python3 sandbox", function () {
    this.timeout(180_000);
    let sandbox: PythonSandbox;
    let problems: CodeProblem[];

    before(async () => {
        sandbox = await PythonSandbox.create();
        problems = (await loadDataset(path.join(SHARED_DIR, "datasets", "HumanEval.jsonl.gz"))).problems as CodeProblem[];
        console.log(`      python: ${sandbox.python}\n      ${describeIsolation(sandbox.isolation)}`);
    });

    const problem = (id: string) => problems.find((p) => p.id === id)!;

    it("gets full isolation where this Linux gives user namespaces to an unprivileged user", function () {
        if (!namespacesAvailable()) this.skip();
        const {notes, limits, ...facts} = sandbox.isolation;
        assert.deepEqual(notes, []);
        assert.ok(Object.values(facts).every((fact) => fact === true), JSON.stringify(facts));
        assert.deepEqual(limits, {memory: true, fileSize: true, processes: "exact", cpu: true});
    });

    it("passes all 164 canonical solutions", async () => {
        const started = performance.now();
        const results = await inPool(problems, CONCURRENCY, (p) => runHumanEval(sandbox, p, p.reference));
        const failures = results.map((result, i) => [problems[i].id, result] as const).filter(([, result]) => result.outcome !== "passed");
        assert.deepEqual(failures.map(([id, result]) => `${id} ${explain(result)}`), []);
        const times = results.map((result) => result.wallMs).sort((a, b) => a - b);
        console.log(`      164 runs in ${((performance.now() - started) / 1000).toFixed(1)} s, two at a time; per run median ${times[82].toFixed(0)} ms, max ${times.at(-1)!.toFixed(0)} ms`);
    });

    it("fails mutated canonical solutions, naming the failed assertion", async () => {
        const mutations: [string, string, string][] = [
            ["HumanEval/0", "return True", "return False"],
            ["HumanEval/2", "number % 1.0", "number % 2.0"],
            ["HumanEval/4", "/ len(numbers)", "/ (len(numbers) + 1)"],
        ];
        for (const [id, from, to] of mutations) {
            const original = problem(id).reference;
            assert.ok(original.includes(from), `${id} has ${from}`);
            const result = await runHumanEval(sandbox, problem(id), original.replace(from, to));
            assert.equal(result.outcome, "failed", explain(result));
            assert.match(result.detail, /^AssertionError/);
        }
    });

    it("grades a raw completion cut where the function ends", async () => {
        const p = problem("HumanEval/2");
        const grade = await gradeCompletion(p, `${p.reference}\n\ndef unrelated():\n    raise SystemExit(1)\n\nprint(truncate_number(3.5))\n`, {sandbox});
        assert.equal(grade.answer, `${p.reference}\n`);
        assert.equal(grade.correct, true, grade.execution && explain(grade.execution));
    });

    it("fails a syntax error and an early exit, which cannot pass the tests", async () => {
        const p = problem("HumanEval/2");
        const syntax = await runHumanEval(sandbox, p, "    return number %% 1.0\n");
        assert.equal(syntax.outcome, "failed");
        assert.match(syntax.detail, /^SyntaxError/);
        // A right body, then an exit before the tests run.
        for (const exit of ["import os\nos._exit(0)", "import sys\nsys.exit(0)", "raise SystemExit(0)"]) {
            const result = await runHumanEval(sandbox, p, `${p.reference}${exit}\n`);
            assert.equal(result.outcome, "failed", `${exit}: ${explain(result)}`);
            assert.match(result.detail, /^exited with code 0 before the tests finished$/);
        }
    });

    it("names the signal that killed a crashing completion", async () => {
        const result = await runHumanEval(sandbox, problem("HumanEval/2"), "    import ctypes\n    ctypes.string_at(0)\n");
        assert.equal(result.outcome, "crashed", explain(result));
        assert.equal(result.detail, "killed by SIGSEGV");
    });

    it("stops a completion that loops forever, and everything it started", async () => {
        const marker = "1234.56789";
        const completion = `    import os, time\n    if os.fork() == 0:\n        os.execv("/bin/sleep", ["sleep", "${marker}"])\n    while True:\n        pass\n`;
        const result = await runHumanEval(sandbox, problem("HumanEval/2"), completion, SHORT);
        assert.equal(result.outcome, "timeout", explain(result));
        assert.ok(result.wallMs >= 3000);
        assert.deepEqual(processesWith(marker), []);
    });

    it("stops a completion that forks forever", async () => {
        const marker = "2345.67891";
        const completion = `    import os\n    while True:\n        if os.fork() == 0:\n            os.execv("/bin/sleep", ["sleep", "${marker}"])\n`;
        const result = await runHumanEval(sandbox, problem("HumanEval/2"), completion, TIGHT);
        assert.ok(result.outcome === "process-limit" || result.outcome === "timeout", explain(result));
        if (sandbox.isolation.limits.processes !== "none") assert.equal(result.outcome, "process-limit");
        assert.deepEqual(processesWith(marker), []);
    });

    it("stops a fork bomb whose children fork too", async () => {
        const result = await runHumanEval(sandbox, problem("HumanEval/2"), "    import os\n    while True:\n        os.fork()\n", TIGHT);
        assert.ok(result.outcome === "process-limit" || result.outcome === "timeout", explain(result));
    });

    it("stops a completion that allocates without end", async () => {
        const completion = "    hoard = []\n    while True:\n        hoard.append(bytearray(1 << 26))\n";
        const result = await runHumanEval(sandbox, problem("HumanEval/2"), completion, TIGHT);
        assert.equal(result.outcome, "memory", explain(result));
    });

    it("stops a completion that writes a file past the size limit", async () => {
        const completion = "    with open('big', 'wb') as f:\n        f.write(b'x' * (4 << 20))\n";
        const result = await runHumanEval(sandbox, problem("HumanEval/2"), completion, TIGHT);
        assert.equal(result.outcome, "file-size", explain(result));
    });

    it("lets a completion use files in its own folder", async () => {
        const p = problem("HumanEval/2");
        const completion = `    import tempfile\n    with open('scratch', 'w') as f:\n        f.write('1')\n    with tempfile.TemporaryFile() as t:\n        t.write(b'2')\n${p.reference}`;
        const result = await runHumanEval(sandbox, p, completion);
        assert.equal(result.outcome, "passed", explain(result));
    });

    it("contains a completion that writes outside its folder", async function () {
        if (!sandbox.isolation.readOnlyFilesystem) this.skip();
        const outputs = path.join(process.cwd(), "test-output");
        await mkdir(outputs, {recursive: true});
        const open = await mkdtemp(path.join(outputs, "humaneval-outside-"));
        const name = `escaped-${path.basename(open)}`;
        try {
            await chmod(open, 0o777); // writable by anyone: only the sandbox stands in the way
            const targets: [string, RegExp][] = [
                [path.join(open, name), /Read-only file system/],
                [path.join("/tmp", name), /Read-only file system/],
                [path.join("/var/tmp", name), /Read-only file system/],
                [path.join(SHARED_DIR, "..", name), /Read-only file system|Permission denied/],
            ];
            for (const [target, error] of targets) {
                const result = await runHumanEval(sandbox, problem("HumanEval/2"), `    open(${JSON.stringify(target)}, 'w').write('x')\n`, TIGHT);
                assert.equal(result.outcome, "failed", explain(result));
                assert.match(result.detail, error);
                assert.equal(await stat(target).then(() => "written", () => "absent"), "absent", target);
            }
        } finally {
            await rm(open, {recursive: true, force: true});
        }
    });

    it("sees none of the host's temporary files and sockets", async function () {
        if (!sandbox.isolation.privateSharedFolders) this.skip();
        const marker = await mkdtemp(path.join(tmpdir(), "humaneval-visible-"));
        try {
            const completion = [
                "    import os",
                "    listed = {place: os.listdir(place) for place in ['/run', '/dev/shm', '/var/tmp', '/tmp'] if os.path.isdir(place)}",
                "    own = os.path.basename(os.getcwd())",
                "    assert listed.pop('/tmp') in ([], [own]) and all(names == [] for names in listed.values()), listed",
                "    return number % 1.0",
                "",
            ].join("\n");
            const result = await runHumanEval(sandbox, problem("HumanEval/2"), completion);
            assert.equal(result.outcome, "passed", explain(result));
        } finally {
            await rm(marker, {recursive: true, force: true});
        }
    });

    it("cannot undo the read-only mounts", async function () {
        if (!sandbox.isolation.privilegesDropped) this.skip();
        const completion = [
            "    import ctypes",
            "    libc = ctypes.CDLL(None, use_errno=True)",
            "    assert libc.mount(None, b'/', None, 32 | 4096, None) != 0, 'remounted / writable'", // MS_REMOUNT | MS_BIND
            "    libc.unshare(0x00020000)", // a mount namespace of its own: its copies of the mounts stay locked read-only
            "    assert libc.mount(None, b'/', None, 32 | 4096, None) != 0, 'remounted / writable in a new mount namespace'",
            "    open('/etc/escaped', 'w')",
            "",
        ].join("\n");
        const result = await runHumanEval(sandbox, problem("HumanEval/2"), completion, TIGHT);
        assert.equal(result.outcome, "failed", explain(result));
        assert.match(result.detail, /Read-only file system|Permission denied/);
    });

    it("has no network", async function () {
        if (!sandbox.isolation.networkNamespace) this.skip();
        let connections = 0;
        const server: Server = createServer((socket) => {
            connections++;
            socket.destroy();
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        try {
            const port = (server.address() as {port: number}).port;
            const completion = `    import socket\n    socket.create_connection(("127.0.0.1", ${port}), timeout=2).close()\n    return number % 1.0\n`;
            const result = await runHumanEval(sandbox, problem("HumanEval/2"), completion, TIGHT);
            assert.equal(result.outcome, "failed", explain(result));
            assert.match(result.detail, /unreachable|refused/i);
            assert.equal(connections, 0);
        } finally {
            await new Promise((resolve) => server.close(resolve));
        }
    });

    it("stops at once when cancelled", async () => {
        const controller = new AbortController();
        const running = runHumanEval(sandbox, problem("HumanEval/2"), "    while True:\n        pass\n", {signal: controller.signal});
        setTimeout(() => controller.abort(), 300);
        const started = performance.now();
        await assert.rejects(running, CancelledError);
        assert.ok(performance.now() - started < 5000);
    });

    it("refuses limits that would not limit", async () => {
        for (const limits of [{workDirBytes: 0}, {timeoutMs: -1}, {processes: 1.5}]) {
            await assert.rejects(runHumanEval(sandbox, problem("HumanEval/2"), "    return 0\n", {limits}), /^RangeError: sandbox limit \w+ must be a positive integer/);
        }
    });

    it("refuses a python3 that does not exist", async () => {
        await assert.rejects(PythonSandbox.create({python: "/nonexistent/python3"}),
            /^InvalidInputError: HumanEval runs the tests with python3, and none could run.*: \/nonexistent\/python3: spawn \/nonexistent\/python3 ENOENT$/);
        await assert.rejects(PythonSandbox.create({python: "no-such-python"}), /none could run.*: no no-such-python on PATH$/);
    });
});

describe("HumanEval in the python3 sandbox without namespaces (resource limits only)", function () {
    this.timeout(120_000);
    let sandbox: PythonSandbox;
    let problems: CodeProblem[];

    before(async () => {
        sandbox = await PythonSandbox.create({namespaces: false});
        problems = (await loadDataset(path.join(SHARED_DIR, "datasets", "HumanEval.jsonl.gz"))).problems as CodeProblem[];
    });

    it("says what it does not isolate", () => {
        const {isolation} = sandbox;
        assert.deepEqual([isolation.userNamespace, isolation.pidNamespace, isolation.networkNamespace, isolation.readOnlyFilesystem, isolation.privateWorkDir], [false, false, false, false, false]);
        assert.ok(isolation.notes.includes("no namespaces: turned off"), JSON.stringify(isolation.notes));
        assert.match(describeIsolation(isolation), /Not isolated: no namespaces: turned off; no network isolation/);
        assert.equal(isolation.unprivilegedUser, true);
        assert.deepEqual([isolation.limits.memory, isolation.limits.fileSize, isolation.limits.cpu], [true, true, true]);
        if (process.platform === "linux") assert.equal(isolation.limits.processes, "approximate");
    });

    it("passes canonical solutions", async () => {
        const results = await inPool(problems.slice(0, 10), CONCURRENCY, (p) => runHumanEval(sandbox, p, p.reference));
        assert.deepEqual(results.map((result) => result.outcome), new Array(10).fill("passed"));
    });

    it("stops a loop, a fork loop and a hoard, and leaves no process behind", async () => {
        const marker = "3456.78912";
        const loop = await runHumanEval(sandbox, problems[2], `    import os\n    if os.fork() == 0:\n        os.execv("/bin/sleep", ["sleep", "${marker}"])\n    while True:\n        pass\n`, SHORT);
        assert.equal(loop.outcome, "timeout", explain(loop));
        const forks = await runHumanEval(sandbox, problems[2], `    import os\n    while True:\n        if os.fork() == 0:\n            os.execv("/bin/sleep", ["sleep", "${marker}"])\n`, TIGHT);
        assert.equal(forks.outcome, process.platform === "linux" ? "process-limit" : forks.outcome, explain(forks));
        const hoard = await runHumanEval(sandbox, problems[2], "    hoard = []\n    while True:\n        hoard.append(bytearray(1 << 26))\n", TIGHT);
        assert.equal(hoard.outcome, "memory", explain(hoard));
        assert.deepEqual(processesWith(marker), []);
    });
});
