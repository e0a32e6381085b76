import {strict as assert} from "node:assert";
import {DEFAULT_SANDBOX_LIMITS, describeIsolation, type SandboxIsolation} from "../../src/eval/sandbox.js";

const FULL: SandboxIsolation = {
    unprivilegedUser: true, userNamespace: true, pidNamespace: true, networkNamespace: true, mountNamespace: true,
    readOnlyFilesystem: true, privateSharedFolders: true, privateWorkDir: true, privateProc: true, privilegesDropped: true, noNewPrivileges: true,
    limits: {memory: true, fileSize: true, processes: "exact", cpu: true}, notes: [],
};

describe("describeIsolation", () => {
    it("says everything that is contained, with the limits", () => {
        assert.equal(describeIsolation(FULL),
            "Generated code runs on this machine with python3. It runs as an unprivileged user, has no network, sees only its own processes, " +
            "which all end with it, can write only its own folder, sees no other program's temporary files or sockets, keeps its files in a private 64 MiB folder that is gone when it ends, " +
            "cannot undo any of this, is killed after 10 s, has 1024 MiB of memory per process, writes files of at most 16 MiB, runs at most 32 processes; " +
            "it can read what every user of this machine may read.");
    });

    it("says what is missing and why", () => {
        const limitsOnly: SandboxIsolation = {
            ...FULL, userNamespace: false, pidNamespace: false, networkNamespace: false, mountNamespace: false, readOnlyFilesystem: false,
            privateSharedFolders: false, privateWorkDir: false, privateProc: false, privilegesDropped: false, limits: {memory: true, fileSize: false, processes: "approximate", cpu: true},
            notes: ["no namespaces: not Linux (darwin)", "no file size limit (x)"],
        };
        assert.equal(describeIsolation(limitsOnly, {...DEFAULT_SANDBOX_LIMITS, timeoutMs: 2500, processes: 8}),
            "Generated code runs on this machine with python3. It runs as an unprivileged user, is killed after 2.5 s, has 1024 MiB of memory per process, " +
            "runs at most 8 processes (approximately); it can read what every user of this machine may read. Not isolated: no namespaces: not Linux (darwin); no file size limit (x).");
    });
});
