// lingering_close: closes a connection without turning the close into a reset.
//
//   co_await send_all(fd, "HTTP/1.1 400 Bad Request\r\n...");
//   co_await lingering_close(std::move(socket));
//
// Closing a TCP socket whose receive queue still holds unread bytes makes the kernel send RST,
// and an RST can destroy the answer just sent before the peer has read it. So: FIN first
// (shutdown SHUT_WR), then read and drop what the peer still sends -- for up to a second, or
// 64 KiB -- and close when it closes or the time is up (nginx's lingering_close, shortened).
// The socket is closed through the worker's IO loop. Call from the task that owns the socket.
#pragma once

#include <zap/zell/task.hpp>
#include <zap/zio/fd.hpp>

namespace zap::app {

zell::Task<void> lingering_close(zio::UniqueFd socket);

}  // namespace zap::app
