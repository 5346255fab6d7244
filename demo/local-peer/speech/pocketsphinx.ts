/**
 * PocketSphinx 5prealpha (Debian `libpocketsphinx3` + `libsphinxbase3`) bound in-process with koffi, plus the
 * US English model from `pocketsphinx-en-us`. Every call is synchronous and a decode can block for hundreds of
 * milliseconds, so the peer only uses this from a worker thread (`recognizer-worker.ts`); the bench also calls it
 * directly. Input is 16 kHz mono PCM16, the rate the acoustic model was trained on.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import koffi, { type LibraryHandle } from "koffi";

/** Where the libraries and the model are looked up; the defaults are Debian's standard locations. */
export interface PocketSphinxPaths {
  /** `libpocketsphinx.so.3`: a file name (searched by the dynamic loader) or an absolute path. */
  library?: string;
  /** `libsphinxbase.so.3`, likewise (it holds the command-line parser). */
  baseLibrary?: string;
  /** Model folder holding `en-us/` (acoustic model), `en-us.lm.bin` and `cmudict-en-us.dict`. */
  modelDir?: string;
  /** Extra decoder arguments (`["-beam", "1e-60"]` …), appended after the model's. */
  args?: string[];
}

export const DEFAULT_POCKETSPHINX_PATHS: Required<Omit<PocketSphinxPaths, "args">> = {
  library: "libpocketsphinx.so.3",
  baseLibrary: "libsphinxbase.so.3",
  modelDir: "/usr/share/pocketsphinx/model/en-us",
};

/**
 * Sample rate the decoder takes, in Hz. Telephone audio (8 kHz) is resampled up to it: the model's `feat.params`
 * fixes its filterbank at 130–6800 Hz, so `-samprate 8000` is refused, and a copy of the model with the
 * filterbank cut to 3500 Hz no longer matches its training (107 % WER on the Asterisk prompts, against 68 %).
 */
export const POCKETSPHINX_RATE = 16_000;

/** One loaded decoder: one utterance at a time. */
export interface PocketSphinxDecoder {
  /** Starts an utterance. */
  start(): void;
  /**
   * Feeds 16 kHz PCM16. `fullUtterance` tells the decoder that this call holds the whole utterance, which lets
   * it normalise the features over all of it (slightly better than streaming, ≈ 0.5 WER point).
   */
  process(pcm: Int16Array, fullUtterance?: boolean): void;
  /** Ends the utterance and returns the best hypothesis (lowercase words, "" when nothing was recognised). */
  end(): string;
  /** Frees the decoder; it cannot be used afterwards. */
  free(): void;
}

/**
 * Loads the libraries and the model (≈ 0.35 s, ≈ 100 MB resident).
 * @throws Error naming what is missing (library, model file) or what failed (`ps_init`).
 */
export function loadPocketSphinx(paths: PocketSphinxPaths = {}): PocketSphinxDecoder {
  const { library, baseLibrary, modelDir } = { ...DEFAULT_POCKETSPHINX_PATHS, ...paths };
  const extra = paths.args ?? [];
  const model = {
    hmm: join(modelDir, "en-us"),
    lm: join(modelDir, "en-us.lm.bin"),
    dict: join(modelDir, "cmudict-en-us.dict"),
  };
  for (const [name, path] of Object.entries(model))
    if (!existsSync(path)) throw new Error(`PocketSphinx ${name} model not found at ${path}`);
  let ps: LibraryHandle;
  let base: LibraryHandle;
  try {
    base = koffi.load(baseLibrary);
    ps = koffi.load(library);
  } catch (error) {
    throw new Error(
      `PocketSphinx library ${library} or ${baseLibrary} not loadable: ${(error as Error).message}`,
    );
  }
  const psArgs = ps.func("void *ps_args()");
  const parse = base.func(
    "void *cmd_ln_parse_r(void *inout, void *defn, int argc, const char **argv, int strict)",
  );
  const freeConfig = base.func("int cmd_ln_free_r(void *config)");
  const init = ps.func("void *ps_init(void *config)");
  const startUtt = ps.func("int ps_start_utt(void *ps)");
  const processRaw = ps.func(
    "int ps_process_raw(void *ps, const int16_t *data, size_t n, int no_search, int full_utt)",
  );
  const endUtt = ps.func("int ps_end_utt(void *ps)");
  const getHyp = ps.func("const char *ps_get_hyp(void *ps, _Out_ int32_t *score)");
  const psFree = ps.func("int ps_free(void *ps)");
  // `-logfn /dev/null`: the library otherwise writes hundreds of lines of configuration dump to stderr.
  // Measured on 24 Asterisk prompts; an extra `arg` replaces the default of the same name (the parser rejects a
  // name given twice):
  // `-maxhmmpf 3000` caps the active HMMs per frame: 40 % less CPU for one more error in 199 words.
  // `-fwdflat no` skips the flat-lexicon second pass that `ps_end_utt` runs over the whole turn: finalising a
  // streamed turn drops from 219 to 24 ms of CPU (p50) at the same WER (66.8 %); a whole turn decoded at once
  // loses 1.5 points (66.8 → 68.3 %) for 25 % less CPU.
  // `-wip 0.2` (word insertion probability, default 0.65): on 60 prompts (482 words) 70.7 → 66.6 % at the same
  // CPU; 0.5 gave 68.5 %, 0.1 66.2 %, 0.05 66.8 %. The recognizer otherwise fills noise and breaths with short
  // words.
  const defaults: Array<[string, string]> = [
    ["-hmm", model.hmm],
    ["-lm", model.lm],
    ["-dict", model.dict],
    ["-logfn", "/dev/null"],
    ["-maxhmmpf", "3000"],
    ["-fwdflat", "no"],
    ["-wip", "0.2"],
  ];
  const given = new Set(extra.filter((_, i) => i % 2 === 0));
  const argv = [...defaults.filter(([name]) => !given.has(name)).flat(), ...extra];
  const config = parse(null, psArgs(), argv.length, argv, 1);
  if (!config) throw new Error("PocketSphinx rejected its configuration");
  const decoder = init(config);
  // ps_init retains the configuration; drop our reference either way.
  freeConfig(config);
  if (!decoder) throw new Error("PocketSphinx ps_init failed (model files unreadable?)");
  let freed = false;
  const check = (what: string, rc: number) => {
    if (rc < 0) throw new Error(`PocketSphinx ${what} failed (${rc})`);
  };
  return {
    start() {
      check("ps_start_utt", startUtt(decoder));
    },
    process(pcm, fullUtterance = false) {
      if (pcm.length === 0) return;
      check("ps_process_raw", processRaw(decoder, pcm, pcm.length, 0, fullUtterance ? 1 : 0));
    },
    end() {
      check("ps_end_utt", endUtt(decoder));
      const hyp = getHyp(decoder, [0]) as string | null;
      return (hyp ?? "").trim();
    },
    free() {
      if (freed) return;
      freed = true;
      psFree(decoder);
    },
  };
}
