//! Server-sent events framing, shared by every codec.
//!
//! A recorded stream is kept as its frames (each event with its trailing blank line), so the
//! server can write it back with the recorded boundaries. A client reads bytes in whatever
//! pieces the network delivers; [`SseParser`] accepts them at any split point, even inside a
//! UTF-8 character, and yields whole events.

use thiserror::Error;

/// One event: its `event:` name, if any, and its `data:` lines joined with `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The `event:` field, when the frame had one.
    pub event: Option<String>,
    /// The data, lines joined with `\n`, with the one optional space after `data:` removed.
    pub data: String,
}

/// Why a stream could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SseError {
    /// The bytes are not UTF-8.
    #[error("frame {frame} is not valid UTF-8")]
    NotUtf8 {
        /// The frame number, from 0.
        frame: usize,
    },
    /// The stream ended inside a frame.
    #[error("stream ends inside frame {frame} (no blank line after it): `{tail}`")]
    Truncated {
        /// The frame number, from 0.
        frame: usize,
        /// The start of the unfinished frame.
        tail: String,
    },
}

/// `s` in pieces of at most `n` characters (never inside a character), as a server streams
/// text and arguments: how the codecs re-encode a JSON response as a stream.
#[must_use]
pub fn fragments(n: usize, s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    chars
        .chunks(n.max(1))
        .map(|c| c.iter().collect::<String>())
        .collect()
}

/// Splits a whole SSE body into frames, each keeping its terminating blank line. Text after the
/// last blank line is returned as a final frame so that nothing recorded is lost.
#[must_use]
pub fn split_frames(body: &str) -> Vec<String> {
    let mut frames = Vec::new();
    let mut start = 0;
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let end = if bytes[i..].starts_with(b"\r\n\r\n") {
            Some(i + 4)
        } else if bytes[i..].starts_with(b"\n\n") || bytes[i..].starts_with(b"\r\r") {
            Some(i + 2)
        } else {
            None
        };
        if let Some(end) = end {
            frames.push(body[start..end].to_owned());
            start = end;
            i = end;
        } else {
            i += 1;
        }
    }
    if start < body.len() && !body[start..].trim().is_empty() {
        frames.push(body[start..].to_owned());
    }
    frames
}

/// Parses one frame's text into an event; `None` for a frame with no data (comments only).
#[must_use]
pub fn parse_frame(frame: &str) -> Option<Event> {
    let mut event = None;
    let mut data: Option<String> = None;
    for line in frame.split(['\n', '\r']) {
        if line.is_empty() || line.starts_with(':') {
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => event = Some(value.to_owned()),
            "data" => match &mut data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => data = Some(value.to_owned()),
            },
            _ => {}
        }
    }
    data.map(|data| Event { event, data })
}

/// Parses every frame of a recorded stream.
#[must_use]
pub fn parse_frames(frames: &[String]) -> Vec<Event> {
    frames.iter().filter_map(|f| parse_frame(f)).collect()
}

/// An incremental parser: feed it bytes as they arrive, get whole events back.
#[derive(Debug, Default)]
pub struct SseParser {
    buf: Vec<u8>,
    frames_seen: usize,
}

impl SseParser {
    /// A parser with nothing buffered.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes and returns the events completed by them.
    ///
    /// # Errors
    /// A completed frame that is not UTF-8.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Event>, SseError> {
        self.buf.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(end) = frame_end(&self.buf) {
            let frame: Vec<u8> = self.buf.drain(..end).collect();
            let text = String::from_utf8(frame).map_err(|_| SseError::NotUtf8 {
                frame: self.frames_seen,
            })?;
            self.frames_seen += 1;
            if let Some(event) = parse_frame(&text) {
                events.push(event);
            }
        }
        Ok(events)
    }

    /// Ends the stream.
    ///
    /// # Errors
    /// Bytes other than whitespace are left over: the stream was cut inside a frame.
    pub fn finish(self) -> Result<(), SseError> {
        let tail = String::from_utf8_lossy(&self.buf);
        if tail.trim().is_empty() {
            Ok(())
        } else {
            Err(SseError::Truncated {
                frame: self.frames_seen,
                tail: tail.chars().take(80).collect(),
            })
        }
    }
}

fn frame_end(buf: &[u8]) -> Option<usize> {
    (0..buf.len()).find_map(|i| {
        let rest = &buf[i..];
        if rest.starts_with(b"\r\n\r\n") {
            Some(i + 4)
        } else if rest.starts_with(b"\n\n") || rest.starts_with(b"\r\r") {
            Some(i + 2)
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_keep_their_blank_lines() {
        let body = "event: a\ndata: {\"x\":1}\n\ndata: [DONE]\n\n";
        let frames = split_frames(body);
        assert_eq!(
            frames,
            vec!["event: a\ndata: {\"x\":1}\n\n", "data: [DONE]\n\n"]
        );
        assert_eq!(frames.concat(), body);
    }

    #[test]
    fn data_lines_are_joined_and_one_space_is_dropped() {
        let e = parse_frame("event: x\ndata:  a\ndata:b\n\n").unwrap();
        assert_eq!(e.event.as_deref(), Some("x"));
        assert_eq!(e.data, " a\nb");
    }

    #[test]
    fn a_split_inside_a_utf8_character_is_fine() {
        let body = "data: {\"t\":\"é\"}\n\n".as_bytes();
        let mut p = SseParser::new();
        let mut events = Vec::new();
        for b in body {
            events.extend(p.push(&[*b]).unwrap());
        }
        p.finish().unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data, "{\"t\":\"é\"}");
    }

    #[test]
    fn a_cut_stream_is_reported() {
        let mut p = SseParser::new();
        assert!(p.push(b"data: {\"a\":").unwrap().is_empty());
        assert!(matches!(
            p.finish(),
            Err(SseError::Truncated { frame: 0, .. })
        ));
    }
}
