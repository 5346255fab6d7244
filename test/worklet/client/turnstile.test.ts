import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { turnstileHeaders } from "../../../worklet/turnstile.ts";

// One fake Turnstile for the file: the loader keeps the API it loaded, as a page would.
const answer: { token?: string; error?: string } = {};
const scripts: string[] = [];
const rendered: Array<Record<string, unknown>> = [];
const removed: string[] = [];
const turnstile = {
  render(_container: unknown, options: Record<string, unknown>) {
    rendered.push(options);
    return `w${rendered.length}`;
  },
  execute() {
    const options = rendered.at(-1) as {
      callback(token: string): void;
      "error-callback"(code: string): void;
    };
    setTimeout(() =>
      answer.token ? options.callback(answer.token) : options["error-callback"](answer.error ?? ""),
    );
  },
  remove(id: string) {
    removed.push(id);
  },
};
/** A document just big enough for the loader: appending the script defines `turnstile` and fires `load`. */
const document = {
  createElement: () => ({ onload: null as null | (() => void), remove() {}, src: "" }),
  head: {
    append(script: { src: string; onload: () => void }) {
      scripts.push(script.src);
      vi.stubGlobal("turnstile", turnstile);
      setTimeout(() => script.onload());
    },
  },
};
const anchor = { after() {} } as unknown as Element;

beforeEach(() => {
  vi.stubGlobal("document", document);
  rendered.length = 0;
  removed.length = 0;
});
afterEach(() => vi.unstubAllGlobals());

describe("turnstileHeaders", () => {
  it("loads the script once, runs an invisible challenge per call and sends its token", async () => {
    answer.token = "tok-1";
    const headers = turnstileHeaders("0x4AAA", anchor);
    expect(await headers()).toEqual({ "CF-Turnstile-Response": "tok-1" });
    expect(await headers()).toEqual({ "CF-Turnstile-Response": "tok-1" });
    expect(scripts).toEqual(["https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit"]);
    expect(rendered).toHaveLength(2);
    expect(rendered[0]).toMatchObject({
      sitekey: "0x4AAA",
      execution: "execute",
      appearance: "interaction-only",
    });
    expect(removed).toEqual(["w1", "w2"]);
  });

  it("rejects with Turnstile's error code and removes the widget", async () => {
    answer.token = undefined;
    answer.error = "110200";
    await expect(turnstileHeaders("0x4AAA", anchor)()).rejects.toThrow("Turnstile failed (110200)");
    expect(removed).toEqual(["w1"]);
    expect(scripts).toHaveLength(1);
  });
});
