//! Connections the mock can reset: [`FaultListener`] hands out connections wrapped in
//! [`FaultIo`], which the gate can tell to reset (the next read or write fails and the socket
//! closes with `SO_LINGER 0`, which sends a TCP RST).

use std::{
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{extract::connect_info::Connected, serve::IncomingStream};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
};

/// Per-connection control: set `reset` and the connection dies with a TCP RST.
#[derive(Debug, Default)]
pub struct ConnControl {
    reset: AtomicBool,
}

/// The connection's control, given to the gate as `ConnectInfo<ConnHandle>`.
#[derive(Debug, Clone)]
pub struct ConnHandle(pub(crate) Arc<ConnControl>);

impl ConnHandle {
    /// Reset the connection: its next read or write fails with a TCP RST.
    pub(crate) fn reset(&self) {
        self.0.reset.store(true, Ordering::SeqCst);
    }

    /// Whether [`reset`](Self::reset) was called.
    pub(crate) fn was_reset(&self) -> bool {
        self.0.reset.load(Ordering::SeqCst)
    }
}

/// A TCP connection that can be reset on demand.
#[derive(Debug)]
pub struct FaultIo {
    stream: TcpStream,
    control: Arc<ConnControl>,
}

impl FaultIo {
    fn check(&self) -> io::Result<()> {
        if self.control.reset.load(Ordering::SeqCst) {
            // Closing with a zero linger sends RST instead of FIN.
            let _ = socket2::SockRef::from(&self.stream).set_linger(Some(Duration::ZERO));
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "fault injected: reset",
            ));
        }
        Ok(())
    }
}

impl AsyncRead for FaultIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for FaultIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// A TCP listener whose connections are [`FaultIo`].
#[derive(Debug)]
pub struct FaultListener(pub(crate) TcpListener);

impl axum::serve::Listener for FaultListener {
    type Io = FaultIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (FaultIo, SocketAddr) {
        loop {
            match self.0.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    return (
                        FaultIo {
                            stream,
                            control: Arc::default(),
                        },
                        addr,
                    );
                }
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

impl Connected<IncomingStream<'_, FaultListener>> for ConnHandle {
    fn connect_info(stream: IncomingStream<'_, FaultListener>) -> Self {
        ConnHandle(stream.io().control.clone())
    }
}
