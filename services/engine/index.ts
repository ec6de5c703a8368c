export { canonicalAddress, type Address } from './address.ts';
export {
  decodeTranscript,
  openTranscript,
  DEFAULT_MAX_TRANSCRIPT_BYTES,
  type DecodedTranscript,
  type DecodeOptions,
  type TranscriptSource,
} from './decode/decode-transcript.ts';
export { TranscriptError, isTranscriptError, type TranscriptErrorCode } from './decode/transcript-error.ts';
export { parseTranscript, type ParseOptions } from './parse-transcript.ts';
export { TranscriptReader, type ReaderOptions } from './parse/transcript-reader.ts';
export { summariseModel, hasDebuggerOutput, type ModelSummary } from './model/summary.ts';
export { fieldLines } from './model/evidence.ts';
export * from './model/types.ts';
export { analyzeTranscript, judge, type Analysis } from './correlate/analyze-transcript.ts';
export * from './correlate/verdict-types.ts';
export { signFinding, normaliseFrame, DEFAULT_SIGNATURE_RULES, SIGNATURE_RULES_VERSION, type HangSignature, type SignatureRuleSet } from './signature/generate-signature.ts';
export { ClusterIndex, jaccard, placeSignature, bucketKeyOf, type Assignment, type Cluster, type ClusterSignature, type PlacedSignature, type Placement } from './cluster/cluster-index.ts';
