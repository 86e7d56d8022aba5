//! Decoding the serial byte stream into text, one chunk at a time.
//!
//! QEMU's stdout arrives in chunks of whatever size the pipe delivers, so a
//! multi-byte UTF-8 character can be cut in two. The decoder keeps the
//! beginning of a cut character until the rest arrives, turns bytes that are
//! not UTF-8 into U+FFFD (a kernel may print garbage; the harness must not
//! choke on it), and drops carriage returns so patterns can use `\n`.

/// Turns a byte stream into text chunk by chunk: a UTF-8 sequence split
/// across two reads is kept until its end arrives, invalid bytes become
/// U+FFFD, and carriage returns are dropped (kernels end lines with `\r\n`).
#[derive(Debug, Default)]
pub struct Utf8StreamDecoder {
    /// The start of a multi-byte sequence whose end has not arrived yet.
    /// Invariant: at most 3 bytes, a valid UTF-8 prefix.
    incomplete: Vec<u8>,
}

impl Utf8StreamDecoder {
    /// Decodes the next chunk of the stream.
    pub fn decode(&mut self, chunk: &[u8]) -> String {
        let mut bytes = std::mem::take(&mut self.incomplete);
        bytes.extend_from_slice(chunk);
        let mut text = String::with_capacity(bytes.len());
        let mut rest = &bytes[..];
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    text.push_str(valid);
                    break;
                }
                Err(error) => {
                    let (valid, after) = rest.split_at(error.valid_up_to());
                    // `valid_up_to` promises this prefix is UTF-8.
                    text.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match error.error_len() {
                        // Invalid bytes: replace them and go on.
                        Some(invalid) => {
                            text.push(char::REPLACEMENT_CHARACTER);
                            rest = &after[invalid..];
                        }
                        // A sequence cut off at the end of the chunk.
                        None => {
                            self.incomplete = after.to_vec();
                            break;
                        }
                    }
                }
            }
        }
        text.retain(|c| c != '\r');
        text
    }

    /// Ends the stream: a cut-off sequence left over becomes U+FFFD.
    pub fn finish(&mut self) -> String {
        if std::mem::take(&mut self.incomplete).is_empty() {
            String::new()
        } else {
            char::REPLACEMENT_CHARACTER.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoder_joins_split_sequences_and_drops_carriage_returns() {
        let mut decoder = Utf8StreamDecoder::default();
        let bytes = "héllo\r\n".as_bytes();
        // Split inside the two-byte 'é'.
        assert_eq!(decoder.decode(&bytes[..2]), "h");
        assert_eq!(decoder.decode(&bytes[2..]), "éllo\n");
        assert_eq!(decoder.decode(&[b'a', 0xff, b'b']), "a\u{fffd}b");
        assert_eq!(decoder.decode(&[0xe2, 0x82]), "");
        assert_eq!(decoder.finish(), "\u{fffd}");
    }
}
