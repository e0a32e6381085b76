/**
 * The servers one remote model runs on: they must hold the same model, and their slots form one
 * list that sequences are spread over. A request that fails because a server stopped or restarts
 * waits for it to come back (with the same model), then runs again: every request carries its
 * whole context and its own seed, so nothing depends on what the server had cached.
 */
import {CancelledError} from "../sampling/errors.js";
import {RemoteServerError} from "./http.js";
import type {InferenceServer, ServerInfo} from "./server.js";

/** One server's slot. */
export interface SlotAddress {
    /** Index of the server in the pool. */
    readonly server: number;
    /** The slot on that server. */
    readonly slot: number;
}

/** How long a job waits for a server that stopped or restarts before it fails. */
export const DEFAULT_RECOVERY_MS = 30_000;
/** Pause between looks at a server that is coming back. */
const RECOVERY_POLL_MS = 250;

export class ServerPool {
    /** Every slot of every server, interleaved (slot 0 of each server, then slot 1, ...), so a few sequences spread over all servers. */
    readonly slots: readonly SlotAddress[];
    readonly contextSize: number;
    readonly vocabularySize: number;

    constructor(readonly servers: readonly InferenceServer[], readonly infos: readonly ServerInfo[], private readonly recoveryMs = DEFAULT_RECOVERY_MS) {
        const first = infos[0]!;
        const other = infos.find((info) => info.fingerprint !== first.fingerprint);
        if (other)
            throw new RemoteServerError(`${servers[0]!.http.name} holds ${first.model} but ${servers[infos.indexOf(other)]!.http.name} holds ${other.model}: `
                + "servers that share a run must hold the same model");
        const slots: SlotAddress[] = [];
        for (let slot = 0; slot < Math.max(...infos.map((info) => info.slots)); slot++)
            infos.forEach((info, server) => { if (slot < info.slots) slots.push({server, slot}); });
        this.slots = slots;
        this.contextSize = Math.min(...infos.map((info) => info.contextSize));
        this.vocabularySize = first.vocabularySize;
    }

    /** Describes each server at `urls`, all at once. */
    static async connect(servers: readonly InferenceServer[], options: {recoveryMs?: number; signal?: AbortSignal} = {}): Promise<ServerPool> {
        const infos = await Promise.all(servers.map((server) => server.describe(options.signal)));
        return new ServerPool(servers, infos, options.recoveryMs);
    }

    /** The slot a batch's sequence `index` runs in: its own while there are enough. */
    slotOf(index: number): SlotAddress {
        return this.slots[index % this.slots.length]!;
    }

    /**
     * Runs `request` on server `index`; when the server is gone or not ready (stopped,
     * restarting), waits up to the recovery time for it to come back with the same model and
     * runs the request again.
     */
    async call<T>(index: number, request: (server: InferenceServer) => Promise<T>, signal: AbortSignal): Promise<T> {
        const server = this.servers[index]!;
        const deadline = performance.now() + this.recoveryMs;
        let recovering = false;
        for (;;) {
            try {
                if (recovering) await this.checkSameModel(index, signal);
                return await request(server);
            } catch (error) {
                if (!(error instanceof RemoteServerError) || !error.transient) throw error;
                if (performance.now() >= deadline)
                    throw new RemoteServerError(`${error.message} (waited ${Math.round(this.recoveryMs / 1000)} s for it to come back)`);
                recovering = true;
                await sleep(RECOVERY_POLL_MS, signal);
            }
        }
    }

    private async checkSameModel(index: number, signal: AbortSignal): Promise<void> {
        const info = await this.servers[index]!.describe(signal);
        const expected = this.infos[index]!;
        if (info.fingerprint !== expected.fingerprint)
            throw new RemoteServerError(`${this.servers[index]!.http.name} came back holding ${info.model} instead of ${expected.model}: run again to use it`);
    }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
        if (signal.aborted) return reject(new CancelledError());
        const onAbort = () => {
            clearTimeout(timer);
            reject(new CancelledError());
        };
        const timer = setTimeout(() => {
            signal.removeEventListener("abort", onAbort);
            resolve();
        }, ms);
        signal.addEventListener("abort", onAbort, {once: true});
    });
}
