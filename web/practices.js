// The guided practices and their cues, timed over the chosen length. Pure: no DOM here.
//
// A script is an opening, a middle and a closing. The opening cues come one after another at
// the start, the closing cue a little before the end, and the middle cues are spread evenly
// in between (a cue with `weight: 2` gets twice the time). When the middle would leave more
// than MAX_GAP_S between cues, gentle reminders are woven in, so a long session is never
// silent for long.

export const PRACTICES = Object.freeze({
  paced_breathing: {
    name: "Paced breathing",
    short: "Breathe with the circle at a slow, even pace.",
    guide: true,
  },
  breath_focus: {
    name: "Breath focus",
    short: "Rest your attention on the breath as it is.",
    guide: false,
  },
  body_scan: {
    name: "Body scan",
    short: "Move your attention slowly from the toes to the head.",
    guide: false,
  },
  resonance: {
    name: "Find your breathing rate",
    short: "Breathe with the circle for 2 minutes at each of five slow paces; hrvcalm finds the pace at which your heart follows your breath most fully.",
    guide: true,
    fixedLength: true,
  },
});

/** The resonance assessment's length as the server runs it, minutes (2 min x 5 paces). */
export const RESONANCE_MINUTES = 10;

export const LENGTHS_MIN = Object.freeze([5, 10, 15, 20]);

const OPENING_STEP_S = 25;
const MAX_GAP_S = 150;

const SCRIPTS = {
  paced_breathing: {
    opening: [
      "Sit or lie in a way that is kind to your back. Breathe in as the circle grows, and out as it shrinks. If your eyes are closed, follow the sound.",
      "Breathe in softly through the nose, without filling up completely. There is no need to try hard.",
    ],
    middle: [
      { text: "Let each out-breath be slow and unhurried, like a quiet sigh." },
      { text: "If the pace feels strained, breathe a little less deeply rather than harder. Comfort matters more than keeping up exactly." },
      { text: "You may notice your heart speeding up a little as you breathe in, and slowing as you breathe out. That is the rhythm we are inviting." },
      { text: "Let the shoulders, the jaw and the belly soften with each out-breath." },
      { text: "If your mind has wandered, that is fine. Simply join the circle again with the next breath." },
    ],
    reminders: [
      "Keep following the circle, one breath at a time.",
      "Soft in-breath, long easy out-breath.",
    ],
    closing: "In a moment the session ends. Let your breathing return to its own rhythm, and notice how your body feels now.",
  },
  breath_focus: {
    opening: [
      "Find a position where your back feels supported. Let your eyes close, or rest your gaze softly on the floor.",
      "Notice where you feel the breath most clearly: at the nostrils, in the chest, or in the belly.",
    ],
    middle: [
      { text: "There is no need to control the breath. Let it breathe itself, and feel each in-breath and each out-breath." },
      { text: "When you notice the mind has wandered, to thoughts, to sounds, or to sensations in your back, that is what minds do. Notice where it went, and gently bring your attention back to the breath." },
      { text: "If there is discomfort, you can acknowledge it: this is here. Then let the breath come back into the foreground." },
      { text: "Each time you come back to the breath is a moment of practice. There is nothing to get right." },
      { text: "Feel the whole length of the out-breath, and the small pause before the next breath begins." },
    ],
    reminders: [
      "If the mind has drifted, kindly return to the next breath.",
      "Resting with the breath, just as it is.",
    ],
    closing: "Now let go of focusing on the breath. Sense your body as a whole, resting here. When you are ready, open your eyes and move gently.",
  },
  resonance: {
    opening: [
      "Sit or lie in a way that is kind to your back, and breathe with the circle: in as it grows, out as it shrinks.",
      "Every two minutes the pace becomes a little slower. Let the breath stay soft and easy; there is no test to pass.",
    ],
    middle: [
      { text: "Breathe in gently through the nose, without filling up completely." },
      { text: "If a pace feels too slow, breathe a little less deeply rather than holding the breath." },
      { text: "Let each out-breath be long and unhurried." },
    ],
    reminders: ["Keep following the circle, one breath at a time."],
    closing: "Nearly done. Keep following the circle until the end, then let your breathing return to its own rhythm.",
  },
  body_scan: {
    opening: [
      "Settle into a position that is kind to your back: lying with your knees bent or supported, or sitting. Let your eyes close if that feels right.",
      "Notice the breath moving in the body, without changing it. We will move our attention slowly, from the toes to the head.",
    ],
    middle: [
      { text: "Bring your attention to the toes of both feet. Notice whatever is there: warmth, coolness, tingling, or nothing in particular." },
      { text: "Move to the soles of the feet, the heels, the tops of the feet and the ankles." },
      { text: "Now the lower legs: the shins and the calves. Notice where they touch the surface beneath you." },
      { text: "The knees: the front, the sides and the back of the knees." },
      { text: "The thighs, front and back, resting and heavy." },
      { text: "The hips and the pelvis. Notice the contact with the chair, the bed or the floor." },
      {
        text: "Now let your attention come to the lower back. There may be aching, tightness, or very little. There is nothing to fix here and nothing to change. See if you can meet whatever is there with kindness, as you would a friend who is hurting.",
        weight: 2,
      },
      { text: "If the sensations in the back are strong, you can breathe around them, or rest your attention on a part of the body that feels neutral, and return when you are ready." },
      { text: "The belly, rising and falling with the breath." },
      { text: "The upper back and the shoulder blades. Let them be held by the surface beneath you." },
      { text: "The chest, and the gentle movement of breathing." },
      { text: "The hands and the fingers, then the wrists, the forearms and the upper arms." },
      { text: "The shoulders. If they have risen, you might let them settle, or simply notice them as they are." },
      { text: "The neck and the throat." },
      { text: "The face: the jaw, the mouth, the cheeks, the eyes and the forehead." },
      { text: "The top of the head." },
      { text: "Now sense the whole body breathing, from the toes to the top of the head, just as it is." },
    ],
    reminders: [],
    closing: "As the practice comes to an end, wiggle your fingers and toes, and move slowly when you are ready. Take this gentleness with you into the day.",
  },
};

/**
 * The timed cues of a practice.
 *
 * @param {string} practice  One of the keys of PRACTICES.
 * @param {number} durationS  The session length in seconds.
 * @returns {{atS: number, text: string}[]} Cues in time order; the first at 0 s.
 */
export function cuesFor(practice, durationS) {
  const script = SCRIPTS[practice] ?? SCRIPTS.paced_breathing;
  const length = Math.max(30, durationS);
  const step = Math.min(OPENING_STEP_S, length / 12);
  const cues = script.opening.map((text, i) => ({ atS: i * step, text }));
  const closingS = length - Math.min(45, length * 0.1);
  const middleStart = script.opening.length * step;

  // Spread the middle cues by weight between the opening and the closing.
  const slots = [...script.middle];
  const totalWeight = () => slots.reduce((sum, c) => sum + (c.weight ?? 1), 0);
  let k = 0;
  while (script.reminders.length > 0 && (closingS - middleStart) / totalWeight() > MAX_GAP_S) {
    // Weave reminders in between the middle cues, round-robin, until the gaps are short.
    const at = Math.min(slots.length, 1 + 2 * (k % Math.max(1, script.middle.length)));
    slots.splice(at + Math.floor(k / script.middle.length), 0, { text: script.reminders[k % script.reminders.length] });
    k += 1;
    if (k > 40) break;
  }
  const unitS = (closingS - middleStart) / totalWeight();
  let t = middleStart;
  for (const cue of slots) {
    cues.push({ atS: t, text: cue.text });
    t += unitS * (cue.weight ?? 1);
  }
  cues.push({ atS: closingS, text: script.closing });
  return cues;
}

/** The index of the cue showing at `elapsedS` (-1 before the first). */
export function cueIndexAt(cues, elapsedS) {
  let index = -1;
  for (let i = 0; i < cues.length; i += 1) if (cues[i].atS <= elapsedS) index = i;
  return index;
}

/** A suggested next length: the same, or one step up once the whole session was done. */
export function suggestNextMinutes(minutes, completed) {
  if (!completed) return minutes;
  const next = LENGTHS_MIN.find((m) => m > minutes);
  return next ?? minutes;
}
