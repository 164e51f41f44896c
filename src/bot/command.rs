//! Bot commands as chats type them: `/start`, `/status`, `/pause
//! [duration]`, `/resume`, `/stop`, `/help`, with an optional
//! `@botusername` (groups), parsed without I/O. [`COMMANDS`] is what
//! `setMyCommands` registers and `/help` lists.

use std::time::Duration;

/// A command a chat sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Start,
    Status,
    /// For this long, or until `/resume`.
    Pause(Option<Duration>),
    Resume,
    Stop,
    Help,
}

/// What a message's text is, for the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Command(Command),
    /// `/pause` with an argument that is not a duration: why.
    BadArgument(String),
    /// A command the bot does not know (its name).
    Unknown(String),
    /// Plain text, or a command for another bot.
    Ignored,
}

/// Name and description of every command, in menu order.
pub const COMMANDS: [(&str, &str); 6] = [
    (
        "start",
        "show this chat's id and how to subscribe; undo /stop",
    ),
    (
        "status",
        "rules this chat receives, quiet hours, paused or not",
    ),
    ("pause", "pause alerts: /pause 2h (or until /resume)"),
    ("resume", "end a pause"),
    ("stop", "receive nothing until /start"),
    ("help", "list the commands"),
];

/// Longest pause accepted.
pub const MAX_PAUSE: Duration = Duration::from_secs(366 * 86_400);

/// Read `text`; `bot_username` (without `@`) decides whether a
/// `/cmd@name` is for this bot.
pub fn parse(text: &str, bot_username: Option<&str>) -> Parsed {
    let text = text.trim();
    let Some(rest) = text.strip_prefix('/') else {
        return Parsed::Ignored;
    };
    let (word, arg) = match rest.split_once(char::is_whitespace) {
        Some((w, a)) => (w, a.trim()),
        None => (rest, ""),
    };
    let name = match word.split_once('@') {
        Some((name, to)) => match bot_username {
            Some(me) if !to.eq_ignore_ascii_case(me) => return Parsed::Ignored,
            _ => name,
        },
        None => word,
    };
    let command = match name.to_ascii_lowercase().as_str() {
        "start" => Command::Start,
        "status" => Command::Status,
        "resume" => Command::Resume,
        "stop" => Command::Stop,
        "help" => Command::Help,
        "pause" if arg.is_empty() => Command::Pause(None),
        "pause" => match crate::feeds::list::parse_interval(arg) {
            Ok(d) if d <= MAX_PAUSE => Command::Pause(Some(d)),
            Ok(_) => return Parsed::BadArgument(format!("{arg:?} is longer than a year")),
            Err(e) => return Parsed::BadArgument(e),
        },
        "" => return Parsed::Ignored,
        other => return Parsed::Unknown(other.chars().take(64).collect()),
    };
    Parsed::Command(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_as_typed() {
        let h = Duration::from_secs(3600);
        let cases: &[(&str, Parsed)] = &[
            ("/start", Parsed::Command(Command::Start)),
            ("  /STATUS  ", Parsed::Command(Command::Status)),
            ("/status@newsalert_bot", Parsed::Command(Command::Status)),
            ("/status@NewsAlert_Bot", Parsed::Command(Command::Status)),
            ("/status@other_bot", Parsed::Ignored),
            ("/pause", Parsed::Command(Command::Pause(None))),
            ("/pause 2h", Parsed::Command(Command::Pause(Some(2 * h)))),
            (
                "/pause@newsalert_bot 1h30m",
                Parsed::Command(Command::Pause(Some(h + h / 2))),
            ),
            (
                "/pause soon",
                Parsed::BadArgument(
                    "\"soon\" is not a duration such as \"5m\", \"90s\" or \"1h30m\"".into(),
                ),
            ),
            (
                "/pause 400d",
                Parsed::BadArgument("\"400d\" is longer than a year".into()),
            ),
            ("/resume", Parsed::Command(Command::Resume)),
            ("/stop now", Parsed::Command(Command::Stop)),
            ("/help", Parsed::Command(Command::Help)),
            ("/weather", Parsed::Unknown("weather".into())),
            ("hello", Parsed::Ignored),
            ("/", Parsed::Ignored),
        ];
        for (text, want) in cases {
            assert_eq!(&parse(text, Some("newsalert_bot")), want, "{text:?}");
        }
        // Without knowing our name, any addressee is taken as us.
        assert_eq!(parse("/stop@x", None), Parsed::Command(Command::Stop));
    }
}
