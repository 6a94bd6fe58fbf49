import { relatedNotes, type DiagnosticJson } from "./render.js";
import { printable } from "./printable.js";

/**
 * GitHub Actions workflow commands escape `%`, CR and LF in data, and `,` and `:` in properties
 * too, and the runner turns them back: a `file=` with a CR or LF in its name names that file. Other
 * control characters (ESC, which recolours the log) are shown as escapes; the lines of a
 * multi-line message stay lines.
 */
export function workflowData(text: string): string {
  return text.split(/([\r\n])/).map((part) => (part === "\r" || part === "\n" ? part : printable(part))).join("").replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** A workflow command's property value (`file=`, `title=`): as data, with `:` and `,` escaped too. */
export function workflowProperty(text: string): string {
  return workflowData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

/**
 * One diagnostic as a workflow command, the annotation GitHub shows on the line of a pull request:
 * `::error file=F,line=L,col=C,endLine=…,endColumn=…,title=policyc PC202::message` (`::warning`
 * for a warning), the help on a line of its own in the message, and a `note:` line per related
 * place (`note: first declared here: a.policy:1:6`). The title is the same in every
 * verb: GitHub shows it above the message, beside other tools' annotations, so it names policyc
 * as well as the code. `file` names the file as CI reads it
 * (see `ciPaths`); a diagnostic of no file, or of one that is no file in the repository
 * (`isRepositoryFile` false: standard input), has no `file=` and says its place in the title.
 * `endColumn` is the column just after the text, as `--json`'s `end` has it.
 */
export function diagnosticAnnotation(d: DiagnosticJson, options: { file: (path: string) => string; isRepositoryFile: (path: string) => boolean }): string {
  const properties: string[] = [];
  let where = "";
  if (d.file !== null && options.isRepositoryFile(d.file)) {
    properties.push(`file=${workflowProperty(options.file(d.file))}`);
    if (d.line !== null) {
      properties.push(`line=${d.line}`, `col=${d.column}`);
      if (d.end !== null) properties.push(`endLine=${d.end.line}`, `endColumn=${d.end.column}`);
    }
  } else if (d.file !== null) where = `${d.file}${d.line !== null ? `:${d.line}:${d.column}` : ""}: `;
  properties.push(`title=${workflowProperty(`policyc ${where}${d.code}`)}`);
  return `::${d.severity === "error" ? "error" : "warning"} ${properties.join(",")}::${workflowData([d.message, ...(d.help !== undefined ? [`help: ${d.help}`] : []), ...relatedNotes(d)].join("\n"))}`;
}
