//! [`Gate`]: the lock in front of SQLite's writing connection. A task that asks while the connection is free
//! takes it at once, even when others are waiting; waiters are woken oldest first, and one that was woken but
//! found the connection taken again waits at the front.
//!
//! Why not `tokio::sync::Mutex`: it is fair by hand-over — releasing assigns the lock to the oldest waiter,
//! which then sits in a runtime queue behind other requests' CPU work (HPKE, sealing, JSON) while the
//! connection, the one resource every step needs, stays idle. Measured on the flow benchmark, that hand-over
//! gap was 10–30 % of the time the connection was held. Here the lock goes to whichever task runs first.

use std::collections::VecDeque;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use tokio::sync::{Mutex as Cell, OwnedMutexGuard};

/// A value behind the gate.
pub(crate) struct Gate<T> {
    state: Mutex<State>,
    // Only the gate's holder locks it, so `try_lock_owned` always succeeds; tokio's guard is `Send`.
    value: Arc<Cell<T>>,
}

#[derive(Default)]
struct State {
    held: bool,
    /// Waiters by ticket, oldest (or woken and beaten to it) first.
    queue: VecDeque<(u64, Waker)>,
    next: u64,
}

impl State {
    /// Lets the oldest waiter know that the gate is free.
    fn wake_next(&mut self) {
        if let Some((_, w)) = self.queue.pop_front() {
            w.wake();
        }
    }
}

fn locked(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    // The state is consistent after every statement; a panic elsewhere cannot leave it half-written.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<T> Gate<T> {
    /// A gate in front of `value`.
    pub(crate) fn new(value: T) -> Self {
        Self { state: Mutex::new(State::default()), value: Arc::new(Cell::new(value)) }
    }

    /// Waits for the gate and holds it until the guard is dropped.
    pub(crate) fn lock(self: &Arc<Self>) -> Lock<T> {
        Lock { gate: self.clone(), ticket: None, done: false }
    }

    fn release(&self) {
        let mut s = locked(&self.state);
        s.held = false;
        s.wake_next();
    }
}

/// The future of [`Gate::lock`].
pub(crate) struct Lock<T> {
    gate: Arc<Gate<T>>,
    /// Set once queued; a ticket missing from the queue was woken.
    ticket: Option<u64>,
    done: bool,
}

impl<T> Future for Lock<T> {
    type Output = GateGuard<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<GateGuard<T>> {
        let this = &mut *self;
        let mut s = locked(&this.gate.state);
        if !s.held {
            if let Some(t) = this.ticket
                && let Some(i) = s.queue.iter().position(|(q, _)| *q == t)
            {
                s.queue.remove(i);
            }
            let Ok(value) = this.gate.value.clone().try_lock_owned() else {
                // Unreachable: a holder unlocks the value before it opens the gate. Were it reached, no release
                // would follow to wake a queued waiter, so ask to be polled again instead.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            };
            s.held = true;
            this.done = true;
            return Poll::Ready(GateGuard { value, _release: Release(this.gate.clone()) });
        }
        match this.ticket.and_then(|t| s.queue.iter().position(|(q, _)| *q == t)) {
            Some(i) => {
                if let Some(entry) = s.queue.get_mut(i) {
                    entry.1.clone_from(cx.waker());
                }
            }
            None => {
                let ticket = s.next;
                s.next += 1;
                if this.ticket.is_some() {
                    // Woken, then beaten to it: still the longest waiting.
                    s.queue.push_front((ticket, cx.waker().clone()));
                } else {
                    s.queue.push_back((ticket, cx.waker().clone()));
                }
                this.ticket = Some(ticket);
            }
        }
        Poll::Pending
    }
}

impl<T> Drop for Lock<T> {
    fn drop(&mut self) {
        let (Some(t), false) = (self.ticket, self.done) else { return };
        let mut s = locked(&self.gate.state);
        match s.queue.iter().position(|(q, _)| *q == t) {
            Some(i) => {
                s.queue.remove(i);
            }
            // Woken but gone without taking the gate: the wake-up goes to the next waiter.
            None if !s.held => s.wake_next(),
            None => {}
        }
    }
}

/// Holds the gate; the value behind it is reached through `Deref`.
pub(crate) struct GateGuard<T> {
    // Fields drop in order: the value first, so that the next holder's `try_lock_owned` succeeds.
    value: OwnedMutexGuard<T>,
    _release: Release<T>,
}

/// Opens the gate when dropped.
struct Release<T>(Arc<Gate<T>>);

impl<T> Drop for Release<T> {
    fn drop(&mut self) {
        self.0.release();
    }
}

impl<T> Deref for GateGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for GateGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Polls `f` once: its output when it finished.
    fn poll_once<F: Future + Unpin>(f: &mut F) -> Option<F::Output> {
        let waker = Waker::noop();
        match Pin::new(f).poll(&mut Context::from_waker(waker)) {
            Poll::Ready(v) => Some(v),
            Poll::Pending => None,
        }
    }

    /// Polls `f` once with a waker that counts its wake-ups.
    fn poll_counted<F: Future + Unpin>(f: &mut F, counter: &Arc<CountingWaker>) -> Option<F::Output> {
        let waker = Waker::from(counter.clone());
        match Pin::new(f).poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(v) => Some(v),
            Poll::Pending => None,
        }
    }

    fn wakes(c: &CountingWaker) -> usize {
        c.0.load(std::sync::atomic::Ordering::SeqCst)
    }

    #[test]
    fn a_task_asking_while_the_gate_is_free_takes_it_and_the_woken_waiter_stays_first() {
        let gate = Arc::new(Gate::new(0u32));
        let (wb, wc) = (Arc::new(CountingWaker::default()), Arc::new(CountingWaker::default()));
        let a = poll_once(&mut gate.lock()).unwrap();
        let mut b = gate.lock();
        let mut c = gate.lock();
        assert!(poll_counted(&mut b, &wb).is_none());
        assert!(poll_counted(&mut c, &wc).is_none());
        drop(a);
        assert_eq!((wakes(&wb), wakes(&wc)), (1, 0), "the oldest waiter is woken");
        // Before b runs, d asks and takes the free gate at once.
        let mut d_guard = poll_once(&mut gate.lock()).unwrap();
        *d_guard += 1;
        assert!(poll_counted(&mut b, &wb).is_none());
        drop(d_guard);
        assert_eq!((wakes(&wb), wakes(&wc)), (2, 0), "b, beaten once, is still first");
        assert_eq!(*poll_counted(&mut b, &wb).unwrap(), 1);
    }

    #[test]
    fn a_woken_waiter_that_goes_away_passes_the_wake_up_on() {
        let gate = Arc::new(Gate::new(()));
        let a = poll_once(&mut gate.lock()).unwrap();
        let mut b = gate.lock();
        let mut c = gate.lock();
        assert!(poll_once(&mut b).is_none());
        let counter = Arc::new(CountingWaker::default());
        assert!(poll_counted(&mut c, &counter).is_none());
        drop(a); // wakes b
        drop(b); // b is cancelled before it ran
        assert_eq!(wakes(&counter), 1, "c was woken in b's place");
        assert!(poll_once(&mut c).is_some());
    }

    #[derive(Default)]
    struct CountingWaker(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn holders_never_overlap() {
        let gate = Arc::new(Gate::new((0u32, false)));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let gate = gate.clone();
                tokio::spawn(async move {
                    for _ in 0..200 {
                        let mut g = gate.lock().await;
                        assert!(!g.1, "two holders at once");
                        g.1 = true;
                        tokio::task::yield_now().await;
                        g.0 += 1;
                        g.1 = false;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(gate.lock().await.0, 3_200);
    }
}
