/**
 * The benchmark pages' "microphone": a 48 kHz WebAudio graph into a MediaStream, with a faint
 * 120 Hz hum so the track's audio stays continuous between sounds, as a live microphone's does.
 * Browser code (plain JS, like the pages, which the Node type-check leaves out), bundled into
 * the pages by esbuild.
 * @returns {{ ctx: AudioContext, destination: MediaStreamAudioDestinationNode }}
 */
export function humMicrophone() {
  const ctx = new AudioContext({ sampleRate: 48000 });
  const destination = ctx.createMediaStreamDestination();
  const hum = ctx.createOscillator();
  const humGain = ctx.createGain();
  hum.frequency.value = 120;
  humGain.gain.value = 0.002;
  hum.connect(humGain).connect(destination);
  hum.start();
  return { ctx, destination };
}
