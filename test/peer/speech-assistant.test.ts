/** The local peer's rule-based assistant: intents, echo, tool choice and arguments, function outputs. */
import { describe, expect, it } from "vitest";
import { type AssistantInput, reply } from "../../demo/local-peer/speech/assistant.ts";

const NOW = new Date("2026-11-29T22:10:00Z");
const WEATHER = {
  type: "function",
  name: "get_weather",
  description: "Current weather for a city",
  parameters: {
    type: "object",
    properties: { location: { type: "string" }, unit: { type: "string", enum: ["celsius", "fahrenheit"] } },
    required: ["location"],
  },
};
const TIMER = {
  type: "function",
  name: "setTimer",
  parameters: { type: "object", properties: { minutes: { type: "integer" }, label: { type: "string" } } },
};
const LIGHTS = {
  type: "function",
  name: "switch_lights",
  parameters: { type: "object", properties: { on: { type: "boolean" } } },
};

const base: AssistantInput = { transcript: "", instructions: "", tools: [], now: NOW, timeZone: "UTC" };
const ask = (transcript: string | null, extra: Partial<AssistantInput> = {}) =>
  reply({ ...base, transcript, ...extra });

describe("assistant", () => {
  it("echoes what it heard", () => {
    expect(ask("please call me back tomorrow")).toEqual({
      type: "text",
      text: "You said: please call me back tomorrow.",
    });
  });

  it("says so when it heard nothing", () => {
    expect(ask(null)).toEqual({ type: "text", text: "Sorry, I did not catch that." });
    expect(ask("  ")).toEqual({ type: "text", text: "Sorry, I did not catch that." });
  });

  it("tells the time and the date from its clock", () => {
    expect(ask("what time is it")).toEqual({ type: "text", text: "It is 10:10 PM." });
    expect(ask("could you tell me the time")).toEqual({ type: "text", text: "It is 10:10 PM." });
    expect(ask("what is the date today")).toEqual({ type: "text", text: "Today is Sunday, November 29." });
  });

  it("reads its instructions, or says it has none", () => {
    expect(ask("what are your instructions", { instructions: "Be brief." })).toEqual({
      type: "text",
      text: "My instructions are: Be brief.",
    });
    expect(ask("what are your instructions")).toEqual({ type: "text", text: "I was given no instructions." });
  });

  it("lists what it can do, naming the session's tools", () => {
    const answer = ask("what can you do", { tools: [WEATHER, TIMER] });
    expect(answer).toEqual({
      type: "text",
      text: "I repeat what you say, tell the time and the date, and read my instructions and call these tools: get weather, set timer.",
    });
  });

  it("calls the tool the transcript names, with arguments read per its schema", () => {
    const tools = [WEATHER, TIMER, LIGHTS];
    expect(ask("what is the weather in paris in celsius", { tools })).toEqual({
      type: "function_call",
      name: "get_weather",
      arguments: JSON.stringify({ location: "paris", unit: "celsius" }),
    });
    expect(ask("set a timer for twenty five minutes", { tools })).toEqual({
      type: "function_call",
      name: "setTimer",
      arguments: JSON.stringify({ minutes: 25 }),
    });
    expect(ask("switch the lights off", { tools })).toEqual({
      type: "function_call",
      name: "switch_lights",
      arguments: JSON.stringify({ on: false }),
    });
  });

  it("does not call a tool whose name is only partly heard, and honours tool_choice", () => {
    const tools = [WEATHER, LIGHTS];
    expect(ask("turn on the lights", { tools })).toEqual({
      type: "text",
      text: "You said: turn on the lights.",
    });
    expect(ask("what is the weather", { tools, toolChoice: "none" })).toMatchObject({ type: "text" });
    expect(ask("hello", { tools, toolChoice: "required" })).toMatchObject({
      type: "function_call",
      name: "get_weather",
    });
    expect(ask("hello", { tools, toolChoice: { type: "function", name: "switch_lights" } })).toMatchObject({
      type: "function_call",
      name: "switch_lights",
    });
    // Entries that are not function tools are ignored.
    expect(ask("weather", { tools: [{ type: "mcp", name: "weather" }, 42, null] })).toMatchObject({
      type: "text",
    });
  });

  it("answers a function_call_output with its content", () => {
    expect(
      ask("what is the weather in paris", {
        tools: [WEATHER],
        functionOutput: {
          name: "get_weather",
          output: '{"temperature":21,"conditions":"sunny","wind_kph":null}',
        },
      }),
    ).toEqual({
      type: "text",
      text: "The get weather result is: temperature 21, conditions sunny, wind kph none.",
    });
    expect(ask(null, { functionOutput: { output: "done" } })).toEqual({
      type: "text",
      text: "The result is: done.",
    });
  });
});
