// Custom fact extraction: tell the extractor what to remember. Here, only dietary facts.
import { DEFAULT_UPDATE_INSTRUCTIONS, reconcileSystemPrompt } from '@mem/core';
import { createExampleMemory, heading } from './setup';

const extraction = `Remember only facts about what the user eats or cannot eat: diets, allergies, intolerances, favourite and disliked foods. Ignore everything else, including travel and work.
Write each fact as a short statement ("Is vegan", "Is allergic to shellfish"). Keep the user's language.`;

const { memory, infer, description } = createExampleMemory({ prompts: { extraction } });
console.log(`custom fact-extraction prompt: ${description}`);
heading('the system prompt the LLM receives');
console.log(reconcileSystemPrompt(extraction, DEFAULT_UPDATE_INSTRUCTIONS));

const scope = { userId: 'kim' };
heading('add a mixed conversation');
const { events } = await memory.add(
  [
    { role: 'user', content: 'I just started a new job at a bank in Porto.' },
    { role: 'user', content: "Also, I've gone vegan and I'm lactose intolerant anyway." },
  ],
  { scope, infer },
);
for (const event of events) console.log(`${event.kind.padEnd(6)} ${event.text}`);
heading('stored');
for (const item of (await memory.getAll({ scope })).results) console.log(item.text);
await memory.close();
