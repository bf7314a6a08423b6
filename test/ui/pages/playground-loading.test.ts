import { expect, test } from "bun:test";
import { applyLoadingLine, emptyLoading } from "../../../src/ui/pages/playground-loading.ts";

const read = (text: string) => {
  const info = emptyLoading();
  for (const line of text.split("\n")) applyLoadingLine(info, line, 1000);
  return info;
};

test("a wait that begins with a load: the model, its estimate, loading now", () => {
  const info = read("switchyard: loading model cold\nExpected load time: about 3s (median of 3 past loads)\nLoading model cold now\n1s elapsed, about 2s left");
  expect([info.model, info.estimateS, info.loadingNow, info.leftS]).toEqual(["cold", 3, true, 2]);
});

test("a wait that begins queued names its model too, and its estimate comes with the load (src/http/loading-stream.ts's wording)", () => {
  const queued = read("switchyard: waiting for model cold\nQueue position: #2\n1s elapsed, queue position #2");
  expect([queued.model, queued.queuePosition, queued.loadingNow, queued.estimateS]).toEqual(["cold", 2, false, null]);
  const loading = read("switchyard: waiting for model cold\nQueue position: #1\nLoading model cold now\nExpected load time: about 4s (median of 2 past loads)");
  expect([loading.model, loading.queuePosition, loading.loadingNow, loading.estimateS]).toEqual(["cold", null, true, 4]);
});
