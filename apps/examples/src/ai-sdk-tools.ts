// An agent with mem's memory tools (Vercel AI SDK): the model decides when to remember and recall.
//   npm run example -- ai-sdk-tools ["message"]          (from the repository root)
// With OPENAI_API_KEY it runs on gpt-4.1-mini; without, a scripted local stand-in plays the model
// (it calls addMemory, then listMemories, then answers from what the tools returned).
import { memoryTools } from '@mem/ai-sdk';
import { chatBody, type FakeReply, type FakeRequest } from '@mem/llm-openai/testing';
import { generateText, stepCountIs } from 'ai';
import { createAISDKExample } from './ai-sdk-setup';
import { heading } from './setup';

function reply(message: object): FakeReply {
  const finish = 'tool_calls' in message ? 'tool_calls' : 'stop';
  return {
    status: 200,
    body: {
      id: 'chatcmpl-offline',
      object: 'chat.completion',
      created: 0,
      model: 'offline-stand-in',
      choices: [{ index: 0, message: { role: 'assistant', content: null, ...message }, finish_reason: finish }],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    },
  };
}

function standIn(request: FakeRequest): FakeReply {
  const messages = chatBody(request).messages as { role: string; content: string }[];
  const toolResults = messages.filter((message) => message.role === 'tool');
  const call = (name: string, input: object) => ({
    tool_calls: [{ id: `call_${toolResults.length}`, type: 'function', function: { name, arguments: JSON.stringify(input) } }],
  });
  if (toolResults.length === 0) return reply(call('addMemory', { text: 'Is allergic to peanuts' }));
  if (toolResults.length === 1) return reply(call('listMemories', {}));
  const listed = JSON.parse(toolResults.at(-1)!.content) as { memories: { text: string }[] };
  return reply({ content: `[offline stand-in] Saved. What I know about you: ${listed.memories.map((item) => item.text).join('; ')}.` });
}

const given = process.argv.slice(2).find((arg) => arg !== '--');
const example = await createAISDKExample('ai-sdk-tools', standIn);
const scope = { userId: 'alice' };
const prompt = given ?? "Remember that I'm allergic to peanuts, then tell me everything you know about me.";

heading(`alice: ${prompt}`);
const result = await generateText({
  model: example.chatModel,
  system: 'You have long-term memory tools. Save durable facts the user tells you; look them up before answering about the user.',
  // The scope comes from the app (here fixed; in a server, from the session), never from the model.
  tools: memoryTools(example.memory, { scope, addOptions: { infer: example.infer } }),
  stopWhen: stepCountIs(5),
  prompt,
});
for (const [index, step] of result.steps.entries()) {
  for (const call of step.toolCalls) console.log(`step ${index + 1}: ${call.toolName}(${JSON.stringify(call.input)})`);
  for (const output of step.toolResults) console.log(`  -> ${JSON.stringify(output.output)}`);
}
heading('answer');
console.log(result.text);
await example.close();
