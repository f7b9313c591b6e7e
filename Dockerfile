# syntax=docker/dockerfile:1
# da-server with its web UI and the `da` CLI it distributes.
#   docker build -t da .
#   docker run -p 8000:8000 -v da-data:/data -e DA_ADMIN_EMAIL=you@example.com -e DA_ADMIN_PASSWORD=... da

FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ENV CARGO_TARGET_DIR=/src/target
RUN rustup target add wasm32-unknown-unknown \
 && cargo install wasm-bindgen-cli --version "$(awk '$0=="name = \"wasm-bindgen\"" {getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)" \
 && (cd end2end && npm ci --no-audit --no-fund) \
 && cargo build --release -p server -p cli \
 && cargo build -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release \
 && mkdir -p /out/site/pkg \
 && wasm-bindgen --target web --no-typescript --out-dir /out/site/pkg --out-name frontend \
      target/wasm32-unknown-unknown/wasm-release/frontend.wasm \
 && end2end/node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
      /out/site/pkg/frontend_bg.wasm -o /out/site/pkg/frontend_bg.wasm \
 && cp style/da.css /out/site/pkg/da.css \
 && cp target/release/da-server target/release/da /out/

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data da && mkdir -p /data /datasets && chown da /data /datasets
COPY --from=build /out/ /opt/da/
USER da
ENV DA_BIND=0.0.0.0:8000 DA_DATA_DIR=/data DA_SITE_DIR=/opt/da/site DA_CLI_DIST_DIR=/opt/da
VOLUME ["/data"]
EXPOSE 8000
ENTRYPOINT ["/opt/da/da-server"]
