// Optional spoken cues (Web Speech API). Off by default; the same text is always on screen.

export class Speaker {
  constructor() {
    this.enabled = false;
    this.supported = typeof window.speechSynthesis !== "undefined";
  }

  setEnabled(on) {
    this.enabled = on && this.supported;
    if (!this.enabled && this.supported) window.speechSynthesis.cancel();
  }

  /** Speak `text` slowly and softly, replacing anything still being spoken. */
  say(text) {
    if (!this.enabled) return;
    const synth = window.speechSynthesis;
    synth.cancel();
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.rate = 0.85;
    utterance.pitch = 0.95;
    utterance.volume = 0.9;
    const voice = synth.getVoices().find((v) => v.lang?.startsWith(document.documentElement.lang || "en"));
    if (voice) utterance.voice = voice;
    synth.speak(utterance);
  }
}
