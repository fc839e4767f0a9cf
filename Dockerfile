# Tuilerie's demo image. It runs the same install script as a developer's
# machine, so there is one install recipe, not two.
FROM debian:bookworm

WORKDIR /opt/tuilerie
COPY . .

RUN scripts/install-deps.sh \
 && cmake --preset release \
 && cmake --build --preset release \
 && ln -sf release/tuilerie build/tuilerie \
 && rm -rf /var/lib/apt/lists/*

EXPOSE 8080
CMD ["build/tuilerie", "serve", "--config", "config/demo.yaml", "--listen", "0.0.0.0:8080"]
