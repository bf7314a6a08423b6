/** Benchmarks land with the benchmarks issue; until then this says so. */
console.log("not yet: benchmarks arrive with the benchmarks issue");
