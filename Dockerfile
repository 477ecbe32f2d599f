# zap daemons in a container: a release build on Debian 12, run as an unprivileged user.
#
#   docker build -t zap .
#   docker run --rm -p 8080:8080 zap                   # zap-http, the demo site, on 0.0.0.0:8080
#   docker run --rm -p 8080:8080 -v /srv/www:/srv/www:ro zap \
#       zap-http --config /etc/zap/http.json --root /srv/www --listen 0.0.0.0:8080
#   docker run --rm -p 7000:7000 zap zap-echo --config /etc/zap/echo.json --listen 0.0.0.0:7000
#
# io_uring under Docker: the default seccomp profile blocks io_uring_setup (EPERM), so zio falls back
# to its epoll backend and logs one line saying so. To use io_uring, run with a seccomp profile that
# allows io_uring_setup/io_uring_enter/io_uring_register (e.g. --security-opt seccomp=unconfined).

FROM debian:12 AS build
WORKDIR /src
COPY scripts/setup.sh scripts/setup.sh
RUN scripts/setup.sh
COPY . .
RUN cmake --preset release -DZAP_BUILD_TESTS=OFF -DZAP_BUILD_BENCH=OFF \
 && cmake --build --preset release \
 && cmake --install build/release --prefix /opt/zap

FROM debian:12-slim
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends liburing2 libspdlog1.10 libfmt9 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home --shell /usr/sbin/nologin zap
COPY --from=build /opt/zap/bin/ /usr/local/bin/
COPY configs/ /etc/zap/
USER zap
EXPOSE 8080
# The example config listens on loopback; inside a container the port must face the bridge.
CMD ["zap-http", "--config", "/etc/zap/http.json", "--listen", "0.0.0.0:8080"]
