/** One line of a tool's CSV output (nvidia-smi, rocm-smi) into cells. Web-standard. */

/** One CSV line into cells: commas split, double quotes group (and `""` escapes a quote); cells are trimmed. */
export function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") cells.push(cell.trim()), (cell = "");
    else cell += c;
  }
  cells.push(cell.trim());
  return cells;
}
