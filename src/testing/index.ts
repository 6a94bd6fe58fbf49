export { replayRecordings, compareDecision, type ReplayOptions, type ReplayReport, type CaseResult, type ReplayError } from "./replay.js";
export { readRecording, parseRecordingLine, type RecordingLine, type Expectation } from "./readRecording.js";
export { recordingLineSchema } from "./recordingSchema.js";
export { expandRecordings } from "./expandRecordings.js";
export { diffRecordings, type CauseGroup, type DiffReport, type DecisionChange } from "./diff.js";
