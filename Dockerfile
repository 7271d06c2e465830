# Meridian as a container: build with the Rust toolchain, run on slim Debian.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked

FROM debian:bookworm-slim
# curl answers the compose file's health check on /readyz.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /app meridian
WORKDIR /app
COPY --from=build /src/target/release/meridian /usr/local/bin/meridian
COPY config ./config
USER meridian
EXPOSE 8080
ENTRYPOINT ["meridian"]
CMD ["serve"]
