//! Palaver's real-time gateway: StompX, STOMP 1.2 over WebSocket, as `@chatkitty/core` speaks it.

pub mod frame;
