import { describe, expect, test } from "bun:test";
import { parseArgs, parseListen, UsageError } from "../../src/cli/args.ts";

describe("parseArgs", () => {
  test("defaults to serving config.yaml on :8080", () => {
    expect(parseArgs([])).toMatchObject({ kind: "serve", config: "config.yaml", listen: { hostname: "::", port: 8080 }, watchConfig: false });
  });
  test("accepts --flag value, --flag=value and llama-swap's single dash", () => {
    expect(parseArgs(["--config", "a.yaml", "--listen=127.0.0.1:9000"])).toMatchObject({
      kind: "serve",
      config: "a.yaml",
      listen: { hostname: "127.0.0.1", port: 9000 },
    });
    expect(parseArgs(["-config", "b.yaml", "-listen", ":7000"])).toMatchObject({
      kind: "serve",
      config: "b.yaml",
      listen: { hostname: "::", port: 7000 },
    });
  });
  test("--watch-config (and llama-swap's -watch-config)", () => {
    expect(parseArgs(["--watch-config"])).toMatchObject({ kind: "serve", watchConfig: true });
    expect(parseArgs(["-watch-config", "-config", "x.yaml"])).toMatchObject({ kind: "serve", config: "x.yaml", watchConfig: true });
  });
  test("--tls-cert-file and --tls-key-file (one dash too): HTTPS, on :8443 unless --listen says otherwise", () => {
    expect(parseArgs(["--tls-cert-file", "c.pem", "--tls-key-file=k.pem"])).toMatchObject({
      kind: "serve",
      listen: { hostname: "::", port: 8443 },
      tls: { cert: "c.pem", key: "k.pem" },
    });
    expect(parseArgs(["-tls-cert-file", "c.pem", "-tls-key-file", "k.pem", "-listen", "127.0.0.1:9443"])).toMatchObject({
      listen: { hostname: "127.0.0.1", port: 9443 },
      tls: { cert: "c.pem", key: "k.pem" },
    });
    expect(parseArgs([])).not.toHaveProperty("tls");
    // llama-swap: an empty value is no value; both empty is plain HTTP on :8080.
    expect(parseArgs(["--tls-cert-file=", "--tls-key-file="])).toMatchObject({ listen: { port: 8080 } });
    expect(parseArgs(["--tls-cert-file=", "--tls-key-file="])).not.toHaveProperty("tls");
  });
  test("one TLS file without the other is a usage error", () => {
    expect(() => parseArgs(["--tls-cert-file", "c.pem"])).toThrow("both --tls-cert-file and --tls-key-file must be given for TLS");
    expect(() => parseArgs(["-tls-key-file", "k.pem"])).toThrow(UsageError);
    expect(() => parseArgs(["--tls-cert-file", "c.pem", "--tls-key-file", ""])).toThrow(UsageError);
  });
  test("--check, --version, --help and simulate", () => {
    expect(parseArgs(["--check", "--config", "c.yaml"])).toEqual({ kind: "check", config: "c.yaml" });
    expect(parseArgs(["--version"])).toEqual({ kind: "version" });
    expect(parseArgs(["-version"])).toEqual({ kind: "version" });
    expect(parseArgs(["--help"])).toEqual({ kind: "help" });
    expect(parseArgs(["simulate", "--port", "0"])).toEqual({ kind: "simulate", argv: ["--port", "0"] });
  });
  test("rejects unknown flags and missing values", () => {
    expect(() => parseArgs(["--bogus"])).toThrow(UsageError);
    expect(() => parseArgs(["--config"])).toThrow("--config needs a value");
  });
});

describe("parseListen", () => {
  test("host forms", () => {
    expect(parseListen(":8080")).toEqual({ hostname: "::", port: 8080 });
    expect(parseListen("8080")).toEqual({ hostname: "::", port: 8080 });
    expect(parseListen("localhost:1")).toEqual({ hostname: "localhost", port: 1 });
    expect(parseListen("[::1]:8080")).toEqual({ hostname: "::1", port: 8080 });
    // Go's unspecified address is every address, IPv6 too: one dual-stack socket.
    expect(parseListen("0.0.0.0:8080")).toEqual({ hostname: "::", port: 8080 });
    expect(parseListen("[::]:8080")).toEqual({ hostname: "::", port: 8080 });
  });

  test("an empty --listen is the default, as llama-swap reads it", () => {
    expect(parseArgs(["--listen", ""])).toMatchObject({ listen: { hostname: "::", port: 8080 } });
    expect(parseArgs(["-listen="])).toMatchObject({ listen: { hostname: "::", port: 8080 } });
  });

  test("boolean flags take Go's -flag=value: true and false forms, anything else is a usage error", () => {
    expect(parseArgs(["-watch-config=false"])).toMatchObject({ kind: "serve", watchConfig: false });
    expect(parseArgs(["--watch-config=true"])).toMatchObject({ kind: "serve", watchConfig: true });
    expect(parseArgs(["-watch-config=1"])).toMatchObject({ kind: "serve", watchConfig: true });
    expect(parseArgs(["-version=false"])).toMatchObject({ kind: "serve" });
    expect(parseArgs(["-version=T"])).toEqual({ kind: "version" });
    expect(parseArgs(["-check=false"])).toMatchObject({ kind: "serve" });
    expect(() => parseArgs(["-version=bogus"])).toThrow('invalid boolean value "bogus" for --version');
  });
  test("bad values", () => {
    expect(() => parseListen("abc")).toThrow(UsageError);
    expect(() => parseListen(":70000")).toThrow("port must be");
  });
});
