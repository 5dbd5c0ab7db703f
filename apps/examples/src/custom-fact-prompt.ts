// Custom fact extraction: tell the extractor what to remember. Here, only dietary facts.
// Without an LLM configured, core's ScriptedLLM answers as a model following these instructions does.
import { DEFAULT_UPDATE_INSTRUCTIONS, reconcileSystemPrompt } from '@mem/core';
import { announceScripted, createExampleMemory, heading } from './setup';

const extraction = `Remember only facts about what the user eats or cannot eat: diets, allergies, intolerances, favourite and disliked foods. Ignore everything else, including travel and work.
Write each fact as a short statement ("Is vegan", "Is allergic to shellfish"). Keep the user's language.`;

const { memory, description, scripted } = createExampleMemory({
  prompts: { extraction },
  // The reply of a model that follows the instructions above: the two dietary facts, not the new job.
  script: [
    {
      json: {
        operations: [
          { op: 'ADD', id: null, text: 'Is vegan' },
          { op: 'ADD', id: null, text: 'Is lactose intolerant' },
        ],
      },
    },
  ],
});
if (scripted) announceScripted('the dietary facts of the conversation, and nothing about the new job.');
console.log(`custom fact-extraction prompt: ${description}`);
const systemPrompt = reconcileSystemPrompt(extraction, DEFAULT_UPDATE_INSTRUCTIONS);
heading('the system prompt the LLM receives');
console.log(systemPrompt);

const scope = { userId: 'kim' };
heading('add a mixed conversation');
const { events } = await memory.add(
  [
    { role: 'user', content: 'I just started a new job at a bank in Porto.' },
    { role: 'user', content: "Also, I've gone vegan and I'm lactose intolerant anyway." },
  ],
  { scope },
);
for (const event of events) console.log(`${event.kind.padEnd(6)} ${event.text}`);
if (scripted) {
  const sent = scripted.requests[0]?.messages[0];
  console.log(
    `(the request carried the custom system prompt above: ${sent?.role === 'system' && sent.content === systemPrompt ? 'yes' : 'NO'})`,
  );
}
heading('stored');
for (const item of (await memory.getAll({ scope })).results) console.log(item.text);
await memory.close();
