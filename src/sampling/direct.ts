/** Standard, low-temperature and greedy decoding: each chain drawn once, token by token. */
import {drawTemperature} from "../protocol/params.js";
import type {Chain} from "./chain.js";
import {extend, type MethodContext} from "./method.js";

export async function runDirect(context: MethodContext, chains: readonly Chain[]): Promise<void> {
    await extend(context, chains, context.params.maxTokens, drawTemperature(context.params));
    for (const chain of chains) chain.done = true;
}
