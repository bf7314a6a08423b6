/** Which URLs of an answer the playground lets into an <img src> or a Download link. */
import { expect, test } from "bun:test";
import { mediaBlobType, safeMediaUrl } from "../../../src/ui/lib/safe-url.ts";

const BASE = "http://127.0.0.1:8080/ui/#/playground/images";

test("http, https, blob and data:image URLs pass; javascript:, data:text/html and the rest do not", () => {
  expect(safeMediaUrl("https://cdn.example/a.png", BASE)).toBe("https://cdn.example/a.png");
  expect(safeMediaUrl("/files/a.png", BASE)).toBe("http://127.0.0.1:8080/files/a.png");
  expect(safeMediaUrl("blob:http://127.0.0.1:8080/0b6e", BASE)).toBe("blob:http://127.0.0.1:8080/0b6e");
  expect(safeMediaUrl("data:image/png;base64,iVBORw0KGgo=", BASE)).toBe("data:image/png;base64,iVBORw0KGgo=");
  expect(safeMediaUrl("DATA:IMAGE/JPEG;base64,/9j/", BASE)).not.toBeNull();
  for (const bad of ["javascript:window.__xss=4", " JavaScript:alert(1)", "java\tscript:alert(1)", "data:text/html,<script>1</script>", "vbscript:x", "file:///etc/passwd", "http://["]) expect({ bad, got: safeMediaUrl(bad, BASE) }).toEqual({ bad, got: null });
});

test("a blob keeps an audio type; text/html and others become bytes to save", () => {
  expect(mediaBlobType("audio/wav")).toBe("audio/wav");
  expect(mediaBlobType("Audio/MPEG; charset=x")).toBe("Audio/MPEG; charset=x");
  expect(mediaBlobType("text/html")).toBe("application/octet-stream");
  expect(mediaBlobType("")).toBe("application/octet-stream");
});
