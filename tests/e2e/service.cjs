// A small service for restate-inspect's end-to-end tests: each handler shows one part of
// the protocol (a call, a run, state, a sleep that suspends, a journal mismatch).
const restate = require("@restatedev/restate-sdk");

let mismatchAttempts = 0; // in this process: the handler's code differs between attempts

const demo = restate.service({
  name: "Demo",
  handlers: {
    greet: async (ctx, name) => `Hello ${name}`,
    callOther: async (ctx, name) => {
      const greeting = await ctx.serviceClient({ name: "Demo" }).greet(name);
      return { greeting };
    },
    runTwice: async (ctx) => {
      const a = await ctx.run("pick", () => 42);
      const b = await ctx.run("double", () => a * 2);
      return b;
    },
    longSleep: async (ctx, ms) => {
      await ctx.run("before", () => "x");
      await ctx.sleep(ms);
      return "slept";
    },
    // not deterministic: the retry replays a Run where the code now sleeps (570)
    mismatch: async (ctx) => {
      mismatchAttempts += 1;
      if (mismatchAttempts === 1) {
        await ctx.run("first", () => 1);
        throw new Error("try again");
      }
      await ctx.sleep(10);
      return "unreachable";
    },
  },
});

const counter = restate.object({
  name: "Counter",
  handlers: {
    add: async (ctx, n) => {
      const now = ((await ctx.get("count")) ?? 0) + n;
      ctx.set("count", now);
      return now;
    },
  },
});

restate.serve({ services: [demo, counter], port: Number(process.env.PORT || 9080) });
