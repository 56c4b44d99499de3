//! The on-screen keyboard's keys. In pinyin mode letters collect in a buffer and the candidate
//! bar offers characters; a chosen character, like a digit or a letter in the other modes,
//! reaches the focused text input as a key press (the input's `edited` then tells the flow).

use kiosk_ui as ui;
use slint::platform::{Key, WindowEvent};
use slint::{ComponentHandle, SharedString};

use super::pinyin::{PinyinInput, PinyinTable};
use super::render::Models;
use super::{SlintView, sync};

/// Types `text` into whatever input has focus.
fn type_text(window: &ui::MainWindow, text: SharedString) {
    let w = window.window();
    w.dispatch_event(WindowEvent::KeyPressed { text: text.clone() });
    w.dispatch_event(WindowEvent::KeyReleased { text });
}

/// Shows the pinyin buffer and its candidates.
pub(super) fn show(window: &ui::MainWindow, models: &Models, input: &mut PinyinInput) {
    let elder = window.global::<ui::Kiosk>().get_elder();
    input.set_per_page(if elder {
        super::pinyin::ELDER_PAGE
    } else {
        super::pinyin::PAGE
    });
    let k = window.global::<ui::Keyboard>();
    let (shown, more, fewer) = input.page(PinyinTable::embedded());
    k.set_pinyin(input.buffer().into());
    k.set_more(more);
    k.set_fewer(fewer);
    sync(
        &models.candidates,
        shown
            .into_iter()
            .map(|c| SharedString::from(c.to_string()))
            .collect(),
    );
}

/// What a key does, given the mode and the pinyin typed so far.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Into the pinyin buffer.
    Buffer,
    /// Typed into the input as it is.
    Type(String),
    Ignore,
}

fn key_outcome(mode: ui::KeyboardMode, key: &str, input: &mut PinyinInput) -> Outcome {
    let mut chars = key.chars();
    let (Some(c), None) = (chars.next(), chars.next()) else {
        return Outcome::Ignore;
    };
    match mode {
        ui::KeyboardMode::Pinyin if c.is_ascii_alphabetic() => {
            if input.push(c) {
                Outcome::Buffer
            } else {
                Outcome::Ignore
            }
        }
        ui::KeyboardMode::Pinyin if c == '\n' && !input.is_empty() => {
            // "Done" with pinyin not yet turned into characters: keep what was typed, as
            // letters, rather than lose it.
            let letters = input.buffer().to_owned();
            input.clear();
            Outcome::Type(letters + "\n")
        }
        ui::KeyboardMode::Phone | ui::KeyboardMode::Digits if c.is_ascii_alphabetic() => {
            Outcome::Ignore
        }
        ui::KeyboardMode::IdNumber if c.is_ascii_alphabetic() && c != 'X' => Outcome::Ignore,
        ui::KeyboardMode::Date if c.is_ascii_alphabetic() => Outcome::Ignore,
        _ => Outcome::Type(c.to_string()),
    }
}

pub(super) fn connect(window: &ui::MainWindow, view: &SlintView) {
    let k = window.global::<ui::Keyboard>();

    let v = view.clone();
    k.on_key(move |key| {
        let Some(window) = v.inner.window.upgrade() else {
            return;
        };
        let mode = window.global::<ui::Keyboard>().get_mode();
        let outcome = {
            let mut state = v.inner.state.borrow_mut();
            key_outcome(mode, &key, &mut state.pinyin)
        };
        match outcome {
            Outcome::Buffer => {}
            Outcome::Ignore => return,
            Outcome::Type(text) => {
                for part in text.split_inclusive('\n') {
                    let (word, enter) = match part.strip_suffix('\n') {
                        Some(w) => (w, true),
                        None => (part, false),
                    };
                    if !word.is_empty() {
                        type_text(&window, word.into());
                    }
                    if enter {
                        type_text(&window, Key::Return.into());
                    }
                }
            }
        }
        let mut state = v.inner.state.borrow_mut();
        show(&window, &v.inner.models, &mut state.pinyin);
    });

    let v = view.clone();
    k.on_backspace(move || {
        let Some(window) = v.inner.window.upgrade() else {
            return;
        };
        let removed = v.inner.state.borrow_mut().pinyin.pop();
        if !removed {
            type_text(&window, Key::Backspace.into());
        }
        let mut state = v.inner.state.borrow_mut();
        show(&window, &v.inner.models, &mut state.pinyin);
    });

    let v = view.clone();
    k.on_choose(move |index| {
        let Some(window) = v.inner.window.upgrade() else {
            return;
        };
        let chosen = usize::try_from(index).ok().and_then(|i| {
            v.inner
                .state
                .borrow_mut()
                .pinyin
                .choose(i, PinyinTable::embedded())
        });
        if let Some(c) = chosen {
            type_text(&window, c.to_string().into());
        }
        let mut state = v.inner.state.borrow_mut();
        show(&window, &v.inner.models, &mut state.pinyin);
    });

    let v = view.clone();
    k.on_next_page(move || {
        let Some(window) = v.inner.window.upgrade() else {
            return;
        };
        v.inner
            .state
            .borrow_mut()
            .pinyin
            .next_page(PinyinTable::embedded());
        let mut state = v.inner.state.borrow_mut();
        show(&window, &v.inner.models, &mut state.pinyin);
    });

    let v = view.clone();
    k.on_previous_page(move || {
        let Some(window) = v.inner.window.upgrade() else {
            return;
        };
        v.inner.state.borrow_mut().pinyin.previous_page();
        let mut state = v.inner.state.borrow_mut();
        show(&window, &v.inner.models, &mut state.pinyin);
    });

    let v = view.clone();
    k.on_switch_mode(move |mode| {
        let Some(window) = v.inner.window.upgrade() else {
            return;
        };
        v.inner.state.borrow_mut().pinyin.clear();
        window.global::<ui::Keyboard>().set_mode(mode);
        let mut state = v.inner.state.borrow_mut();
        show(&window, &v.inner.models, &mut state.pinyin);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_mode() {
        let mut input = PinyinInput::default();
        let m = ui::KeyboardMode::Pinyin;
        assert_eq!(key_outcome(m, "w", &mut input), Outcome::Buffer);
        assert_eq!(input.buffer(), "w");
        assert_eq!(key_outcome(m, "1", &mut input), Outcome::Type("1".into()));
        assert_eq!(
            key_outcome(m, "\n", &mut input),
            Outcome::Type("w\n".into()),
            "pending pinyin is kept as letters"
        );
        assert!(input.is_empty());
        assert_eq!(key_outcome(m, "\n", &mut input), Outcome::Type("\n".into()));
        assert_eq!(
            key_outcome(ui::KeyboardMode::Phone, "a", &mut input),
            Outcome::Ignore
        );
        assert_eq!(
            key_outcome(ui::KeyboardMode::IdNumber, "X", &mut input),
            Outcome::Type("X".into())
        );
        assert_eq!(
            key_outcome(ui::KeyboardMode::IdNumber, "a", &mut input),
            Outcome::Ignore
        );
        assert_eq!(
            key_outcome(ui::KeyboardMode::Letters, "A", &mut input),
            Outcome::Type("A".into())
        );
        assert_eq!(key_outcome(m, "ab", &mut input), Outcome::Ignore);
    }
}
