/**
 * Cloudflare Turnstile for the embed: before each call, an invisible challenge whose token goes to the worker as
 * `CF-Turnstile-Response` (the worker verifies it with siteverify when `TURNSTILE_SECRET_KEY` is set). The
 * script `challenges.cloudflare.com/turnstile/v0/api.js` is loaded only when a site key is configured, which
 * needs `https://challenges.cloudflare.com` in the page's CSP `script-src` and `frame-src`.
 */

const SCRIPT_URL = "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit";

/** The part of Turnstile's explicit-rendering API used here. */
interface TurnstileApi {
  render(container: HTMLElement, options: Record<string, unknown>): string | undefined;
  execute(widget: string | HTMLElement): void;
  remove(widget: string): void;
}

let api: Promise<TurnstileApi> | undefined;

function loadTurnstile(): Promise<TurnstileApi> {
  api ??= new Promise<TurnstileApi>((resolve, reject) => {
    const script = document.createElement("script");
    script.src = SCRIPT_URL;
    script.async = true;
    script.onload = () => {
      const turnstile = (globalThis as { turnstile?: TurnstileApi }).turnstile;
      if (turnstile) resolve(turnstile);
      else reject(new Error("the Turnstile script loaded without `turnstile`"));
    };
    script.onerror = () => reject(new Error(`cannot load ${SCRIPT_URL} (check CSP script-src)`));
    document.head.append(script);
  });
  api.catch(() => {
    api = undefined;
  });
  return api;
}

/**
 * A function that runs one Turnstile challenge for `siteKey` and resolves with the header to send. The widget
 * stays invisible unless Cloudflare asks the visitor to interact (`appearance: "interaction-only"`), then it
 * shows next to `anchor`.
 */
export function turnstileHeaders(siteKey: string, anchor: Element): () => Promise<Record<string, string>> {
  return async () => {
    const turnstile = await loadTurnstile();
    const container = document.createElement("div");
    anchor.after(container);
    let widget: string | undefined;
    try {
      const token = await new Promise<string>((resolve, reject) => {
        widget = turnstile.render(container, {
          sitekey: siteKey,
          size: "flexible",
          appearance: "interaction-only",
          execution: "execute",
          callback: resolve,
          "error-callback": (code: unknown) => reject(new Error(`Turnstile failed (${String(code)})`)),
          "timeout-callback": () => reject(new Error("Turnstile timed out")),
        });
        turnstile.execute(widget ?? container);
      });
      return { "CF-Turnstile-Response": token };
    } finally {
      if (widget) turnstile.remove(widget);
      container.remove();
    }
  };
}
