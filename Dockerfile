# Builds the single `coda` binary; the same image runs `coda api` and `coda worker`.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p coda

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/coda /usr/local/bin/coda
COPY web /srv/coda/web
COPY migrations /srv/coda/migrations
WORKDIR /srv/coda
ENV CODA_STORAGE__DIR=/data
VOLUME /data
ENTRYPOINT ["coda"]
CMD ["up"]
