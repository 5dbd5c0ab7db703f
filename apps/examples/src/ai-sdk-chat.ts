// A chat turn with the Vercel AI SDK and mem's withMemory middleware: run it twice and the second run
// remembers the first. Usage:
//   npm run example -- ai-sdk-chat                       first run: tells the assistant about you
//   npm run example -- ai-sdk-chat --stream              second run: asks a question, streamed
//   npm run example -- ai-sdk-chat "any message" [--stream]
// (from the repository root; MEM_DB picks the database, default a file in the temp folder)
// With OPENAI_API_KEY it runs on gpt-4.1-mini; without, offline against a local stand-in server.
import { withMemory } from '@mem/ai-sdk';
import { chatBody, chatStreamReply, type FakeReply, type FakeRequest } from '@mem/llm-openai/testing';
import { generateText, streamText } from 'ai';
import { createAISDKExample } from './ai-sdk-setup';
import { heading } from './setup';

/** The offline stand-in: it says which memories reached it, so you can see what withMemory sent. */
function standIn(request: FakeRequest): FakeReply {
  const messages = chatBody(request).messages as { role: string; content: string }[];
  const block = messages.find((message) => message.role === 'system' && message.content.startsWith('Long-term memories'));
  const memories = block ? block.content.split('\n').slice(1) : [];
  // Offline, mem stores the stand-in's replies too (as given): quoting them again would nest every
  // earlier reply in the next one, run after run. It counts them instead.
  const own = memories.filter((memory) => memory.includes('[offline stand-in]')).length;
  const quoted = memories.filter((memory) => !memory.includes('[offline stand-in]'));
  const content =
    memories.length === 0
      ? '[offline stand-in] Noted.'
      : `[offline stand-in] The memories I was given: ${quoted.join(' ')}${own > 0 ? ` (and ${own} of my own earlier replies)` : ''}`;
  const usage = { prompt_tokens: 0, completion_tokens: 0 };
  if ((chatBody(request) as { stream?: boolean }).stream) return chatStreamReply(request, { content, usage });
  return {
    status: 200,
    body: {
      id: 'chatcmpl-offline',
      object: 'chat.completion',
      created: 0,
      model: 'offline-stand-in',
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage: { ...usage, total_tokens: 0 },
    },
  };
}

const args = process.argv.slice(2).filter((arg) => arg !== '--');
const stream = args.includes('--stream');
const given = args.find((arg) => !arg.startsWith('--'));
const example = await createAISDKExample('ai-sdk-chat', standIn);
const scope = { userId: 'alice' };
const known = (await example.memory.getAll({ scope })).results.length;
const message = given ?? (known === 0 ? "I'm vegetarian and I live in Lisbon." : 'What should I cook tonight?');
console.log(`alice has ${known} memories before this run`);

// 'await': a script ends when its work is done, so the exchange is stored before the call returns
// (in a server, keep the default 'background', with waitUntil where the platform has it).
const model = withMemory(example.chatModel, {
  memory: example.memory,
  scope,
  add: 'await',
  addOptions: { infer: example.infer },
  onError: (error, { phase }) => console.error(`memory ${phase} failed: ${error instanceof Error ? error.message : String(error)}`),
});

heading(`alice: ${message}`);
let metadata: unknown;
if (stream) {
  const result = streamText({ model, prompt: message });
  for await (const text of result.textStream) process.stdout.write(text);
  process.stdout.write('\n');
  metadata = (await result.providerMetadata)?.['mem'];
} else {
  const result = await generateText({ model, prompt: message });
  console.log(result.text);
  metadata = result.providerMetadata?.['mem'];
}
const { memories, injectedTokens } = metadata as { memories: number; injectedTokens: number };
console.log(`(${stream ? 'streamText' : 'generateText'}; memories in the prompt: ${memories}, about ${injectedTokens} tokens)`);

heading('alice now remembers');
for (const item of (await example.memory.getAll({ scope })).results) console.log(`- ${item.text}`);
await example.close();
