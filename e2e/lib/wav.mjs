// Reads a WAV file's length from its header: data bytes / (rate × channels × bytes per sample).
export function wavSeconds(buf) {
  if (buf.toString("ascii", 0, 4) !== "RIFF" || buf.toString("ascii", 8, 12) !== "WAVE") {
    throw new Error("not a WAV file");
  }
  let offset = 12;
  let format = null;
  while (offset + 8 <= buf.length) {
    const id = buf.toString("ascii", offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    if (id === "fmt ") {
      format = {
        channels: buf.readUInt16LE(offset + 10),
        rate: buf.readUInt32LE(offset + 12),
        bits: buf.readUInt16LE(offset + 22),
      };
    } else if (id === "data") {
      if (!format) throw new Error("WAV data before its format");
      return size / (format.rate * format.channels * (format.bits / 8));
    }
    offset += 8 + size + (size % 2);
  }
  throw new Error("WAV without a data chunk");
}
