/**
 * The prompts `add` uses for images. Written for this project; short, like the other prompts.
 */

/** The system prompt of a call that describes one image (when the extraction call cannot take it). */
export const IMAGE_DESCRIPTION_INSTRUCTIONS = `You describe images for an AI assistant's long-term memory. In at most three sentences, say what the image shows, any text in it, and what it tells about the people in the conversation (places, pets, food, belongings, documents, events). Write in the language of the message the image came with. Reply with the description only.`;

/** The user prompt of a description call: the message the image came with, then the image. */
export function imageDescriptionPrompt(options: { role: string; name?: string | undefined; text: string }): string {
  const speaker = options.name ? `${options.role} (${options.name})` : options.role;
  const text = options.text.trim();
  return text === ''
    ? `The ${speaker} sent this image without text.`
    : `The ${speaker} sent this image with the message:\n${text.length > 2_000 ? `${text.slice(0, 2_000)}…` : text}`;
}

/** Put after the conversation when its images go with it in the extraction call, before the images. */
export const INLINE_IMAGES_NOTE = `The images of the conversation follow, each after its marker ([image 1], …). Remember what they show about the people like any other fact, written out in words.`;
