# The base image of the published action image: the Dockerfile's `FROM python:3.13-slim`, pinned by digest. The release
# passes it to the build as a named context (`scripts/release.py base-image`), so every release builds on exactly this
# image, while `docker build .` keeps working from the tag anywhere. Dependabot's docker updates refresh the digest (and
# move the tag together with the Dockerfile's); a test checks that both name the same image and tag.
FROM python:3.13-slim@sha256:7c61056e61ac89e852de05f3dc6fa51a6dd2181797bceed46aa725dd7cb2cd3b
