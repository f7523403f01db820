//! A lane's work waiting for a render slot, in order. A presence change of a user whose
//! earlier change still waits is merged into it: that render has not read the user yet, so
//! it will tell the newer state (sessions start and end by the thousand; a user's own burst of
//! them costs one render).

use std::collections::{HashSet, VecDeque};

use palaver_domain::platform::event::{Event, UserRef};

use super::render::Work;

#[derive(Debug, Default)]
pub(super) struct Backlog {
    queue: VecDeque<Work>,
    /// The users whose presence change waits in `queue`.
    users: HashSet<i64>,
}

/// The user whose presence a piece of work tells, rendered alike whatever the event said.
fn presence_of(work: &Work) -> Option<i64> {
    let Work::Event(e) = work else {
        return None;
    };
    match &e.event {
        Event::PresenceChanged { user_id, .. }
        | Event::UserUpdated(UserRef { id: user_id, .. }) => Some(*user_id),
        _ => None,
    }
}

impl Backlog {
    /// Queues `work`, unless it merges into a waiting presence change.
    pub(super) fn push(&mut self, work: Work) {
        if let Some(user) = presence_of(&work) {
            if !self.users.insert(user) {
                return;
            }
        }
        self.queue.push_back(work);
    }

    pub(super) fn pop(&mut self) -> Option<Work> {
        let work = self.queue.pop_front()?;
        if let Some(user) = presence_of(&work) {
            self.users.remove(&user);
        }
        Some(work)
    }

    pub(super) fn len(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use palaver_service::platform::Published;

    use super::*;

    fn event(event: Event) -> Work {
        Work::Event(Arc::new(Published {
            application_id: 1,
            seq: None,
            created: 0,
            event,
        }))
    }

    fn presence(user: i64, online: bool) -> Work {
        event(Event::PresenceChanged {
            user_id: user,
            online,
            status: "AVAILABLE".into(),
        })
    }

    fn participant(user: i64) -> Work {
        event(Event::ParticipantChanged {
            channel_id: 9,
            user_id: user,
            active: true,
        })
    }

    /// What the backlog gives back, as (kind, user).
    fn drain(b: &mut Backlog) -> Vec<(&'static str, i64)> {
        std::iter::from_fn(|| b.pop())
            .map(|w| match w {
                Work::Event(e) => match &e.event {
                    Event::PresenceChanged { user_id, .. } => ("presence", *user_id),
                    Event::ParticipantChanged { user_id, .. } => ("participant", *user_id),
                    other => panic!("unexpected {other:?}"),
                },
                Work::TypingStopped((_, _, u)) => ("typing", u),
            })
            .collect()
    }

    #[test]
    fn a_waiting_users_presence_absorbs_its_later_changes_only() {
        let mut b = Backlog::default();
        b.push(presence(1, true));
        b.push(participant(1));
        b.push(presence(2, true));
        b.push(presence(1, false));
        b.push(participant(1));
        b.push(Work::TypingStopped((1, 9, 1)));
        assert_eq!(b.len(), 5);
        assert_eq!(
            drain(&mut b),
            [
                ("presence", 1),
                ("participant", 1),
                ("presence", 2),
                ("participant", 1),
                ("typing", 1),
            ]
        );
        assert_eq!(b.len(), 0);
    }

    #[test]
    fn a_presence_change_after_the_waiting_one_left_is_queued_again() {
        let mut b = Backlog::default();
        b.push(presence(1, true));
        assert_eq!(drain(&mut b), [("presence", 1)]);
        // Its render may have read the user already: the next change is told on its own.
        b.push(presence(1, false));
        b.push(presence(1, true));
        assert_eq!(drain(&mut b), [("presence", 1)]);
        assert_eq!(b.pop().map(|_| ()), None);
    }
}
