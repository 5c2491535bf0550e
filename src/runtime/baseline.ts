// The token baseline route reports savings against: every request sent to the large model.
// Where the model was asked, its measured usage is the baseline; elsewhere the baseline is an
// estimate from the size of the prompt that would have been sent (about 4 characters a token for
// the instructions and the quoted request, plus a typical answer of 60 tokens).
import { readFileSync } from 'node:fs';
import type { Request } from '../request/normalize.js';

export const CHARS_PER_TOKEN = 4;
export const ANSWER_TOKENS = 60;

let promptChars: number | undefined;

function decisionPromptChars(): number {
  if (promptChars === undefined) {
    try {
      promptChars = readFileSync(new URL('../../prompts/decision.md', import.meta.url), 'utf8').length;
    } catch {
      promptChars = 2000;
    }
  }
  return promptChars;
}

export function estimateTokens(request: Request): { input: number; output: number } {
  const chars = decisionPromptChars() + JSON.stringify(request).length + 200;
  return { input: Math.ceil(chars / CHARS_PER_TOKEN), output: ANSWER_TOKENS };
}
