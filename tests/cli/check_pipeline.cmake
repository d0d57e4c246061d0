# The whole workflow through the command line, on the multi30k-200 slice:
# vocab -> train (from a config file) -> info -> translate -> score, and bad input on the way.

set(data ${DATA_DIR}/multi30k-200)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run name)
  execute_process(COMMAND ${HEED} ${ARGN} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  set(${name}_out "${out}" PARENT_SCOPE)
  set(${name}_err "${err}" PARENT_SCOPE)
  set(${name}_rc "${rc}" PARENT_SCOPE)
endfunction()

run(vocab vocab -i ${data}/train.en ${data}/train.de --size 300 -o ${WORK_DIR}/joint)
if(NOT vocab_rc EQUAL 0 OR NOT EXISTS ${WORK_DIR}/joint.model OR NOT vocab_out STREQUAL "")
  message(FATAL_ERROR "heed vocab: exit ${vocab_rc}\n${vocab_err}")
endif()

file(WRITE ${WORK_DIR}/train.toml "
train-src = \"${data}/train.en\"
train-tgt = \"${data}/train.de\"
valid-src = \"${data}/valid.en\"
valid-tgt = \"${data}/valid.de\"
vocab = \"${WORK_DIR}/joint.model\"
model-dim = 32
heads = 2
ffn-dim = 64
encoder-layers = 1
decoder-layers = 1
batch-tokens = 256
max-updates = 3
valid-bleu-sentences = 5
")
run(train --threads 1 train --config ${WORK_DIR}/train.toml -o ${WORK_DIR}/run)
if(NOT train_rc EQUAL 0 OR NOT train_out STREQUAL "" OR NOT train_err MATCHES "validation 1 at update 3")
  message(FATAL_ERROR "heed train --config: exit ${train_rc}, stdout '${train_out}'\n${train_err}")
endif()

run(info -q info ${WORK_DIR}/run/best.heed)
if(NOT info_rc EQUAL 0 OR NOT info_out MATCHES "model-dim = 32" OR NOT info_out MATCHES "max-updates=3")
  message(FATAL_ERROR "heed info on the trained model: exit ${info_rc}\n${info_out}")
endif()

run(translate -q translate -m ${WORK_DIR}/run/best.heed -i ${data}/valid.en -o ${WORK_DIR}/valid.out --beam 2)
file(STRINGS ${WORK_DIR}/valid.out lines)
file(READ ${WORK_DIR}/valid.out text)
string(REGEX MATCHALL "\n" newlines "${text}")
list(LENGTH newlines count)
if(NOT translate_rc EQUAL 0 OR NOT count EQUAL 50)
  message(FATAL_ERROR "heed translate: exit ${translate_rc}, ${count} lines for 50\n${translate_err}")
endif()

run(score -q score -m bleu,chrf -r ${data}/valid.de -i ${WORK_DIR}/valid.out)
if(NOT score_rc EQUAL 0 OR NOT score_out MATCHES "^BLEU\\|.*\nchrF2\\|")
  message(FATAL_ERROR "heed score: exit ${score_rc}\n${score_out}${score_err}")
endif()

# Gzipped corpora, as corpora are often shipped: the vocabulary and the training read them as text.
foreach(side en de)
  file(ARCHIVE_CREATE OUTPUT ${WORK_DIR}/train.${side}.gz PATHS ${data}/train.${side} FORMAT raw COMPRESSION GZip)
endforeach()
run(gz_vocab -q vocab -i ${WORK_DIR}/train.en.gz ${WORK_DIR}/train.de.gz --size 300 -o ${WORK_DIR}/gz)
file(READ ${WORK_DIR}/joint.vocab plain_pieces)
file(READ ${WORK_DIR}/gz.vocab gz_pieces)
if(NOT gz_vocab_rc EQUAL 0 OR NOT gz_pieces STREQUAL plain_pieces)
  message(FATAL_ERROR "heed vocab on .gz corpora: exit ${gz_vocab_rc}, the pieces of the plain files' vocabulary: "
                      "${gz_pieces} ${gz_vocab_err}")
endif()
run(gz_train --threads 1 train --train-src ${WORK_DIR}/train.en.gz --train-tgt ${WORK_DIR}/train.de.gz
    --vocab ${WORK_DIR}/joint.model -o ${WORK_DIR}/gz-run --model-dim 32 --heads 2 --ffn-dim 64 --encoder-layers 1
    --decoder-layers 1 --batch-tokens 256 --max-updates 2)
if(NOT gz_train_rc EQUAL 0 OR NOT gz_train_err MATCHES "training data: 200 pairs kept of 200 lines")
  message(FATAL_ERROR "heed train on .gz corpora: exit ${gz_train_rc}\n${gz_train_err}")
endif()

# Corpora of different lengths: one line naming both files and both counts, exit 1.
run(bad train --train-src ${data}/train.en --train-tgt ${data}/valid.de --vocab ${WORK_DIR}/joint.model -o ${WORK_DIR}/bad)
if(NOT bad_rc EQUAL 1 OR NOT bad_err MATCHES "train.en has 200 lines but .*valid.de has 50")
  message(FATAL_ERROR "heed train with mismatched corpora: exit ${bad_rc}\n${bad_err}")
endif()

# A failed training leaves no output directory behind.
if(EXISTS ${WORK_DIR}/bad)
  message(FATAL_ERROR "heed train with mismatched corpora left ${WORK_DIR}/bad behind")
endif()

# A workspace that does not fit fails before update 1, naming the batch and the sizes, and
# leaves nothing behind; a run that fits says what its workspace takes.
run(tight --threads 1 --memory-limit 4 train --config ${WORK_DIR}/train.toml --batch-tokens 4096 -o ${WORK_DIR}/tight)
if(NOT tight_rc EQUAL 1 OR NOT tight_err MATCHES "a batch of [0-9]+ sentences of [0-9]+ source and [0-9]+ target pieces \\(padded\\) does not fit: out of memory: .* MB more with .* MB held, beyond the 4.0 MB available"
   OR tight_err MATCHES "update 1 \\|" OR EXISTS ${WORK_DIR}/tight)
  message(FATAL_ERROR "heed --memory-limit 4 train: exit ${tight_rc}\n${tight_err}")
endif()
if(NOT train_err MATCHES "workspace: [0-9]+ MB laid out for the epoch's largest batches")
  message(FATAL_ERROR "heed train did not report its workspace:\n${train_err}")
endif()

# --keep-last 2 keeps the models of the last two validations; heed average makes one of them.
run(keep --threads 1 train --config ${WORK_DIR}/train.toml --max-updates 4 --validate-every 1 --keep-last 2 -o ${WORK_DIR}/keep)
file(GLOB kept RELATIVE ${WORK_DIR}/keep ${WORK_DIR}/keep/update-*.heed)
list(SORT kept)
if(NOT keep_rc EQUAL 0 OR NOT kept STREQUAL "update-3.heed;update-4.heed")
  message(FATAL_ERROR "heed train --keep-last 2: exit ${keep_rc}, kept '${kept}'\n${keep_err}")
endif()
# metrics.tsv: a header, a row per validation and per progress line.
file(READ ${WORK_DIR}/keep/metrics.tsv metrics)
if(NOT metrics MATCHES "^kind\tupdate\tepoch\tseconds\tloss\tperplexity\tlearning_rate\tgrad_norm\ttokens_per_second\tvalid_cross_entropy\tvalid_bleu\n"
   OR NOT metrics MATCHES "\nvalid\t4\t1\t[0-9.]+\t\t\t\t\t\t[0-9.]+\t[0-9.]+\n" OR NOT metrics MATCHES "\ntrain\t4\t1\t")
  message(FATAL_ERROR "metrics.tsv of the --keep-last run:\n${metrics}")
endif()
file(READ ${WORK_DIR}/keep/report.html report)
string(REGEX MATCHALL "<svg" charts "${report}")
list(LENGTH charts chart_count)
if(NOT chart_count EQUAL 5 OR NOT report MATCHES "4 validations")
  message(FATAL_ERROR "report.html of the --keep-last run has ${chart_count} charts:\n${report}")
endif()
run(average average ${WORK_DIR}/keep/update-3.heed ${WORK_DIR}/keep/update-4.heed -o ${WORK_DIR}/averaged.heed)
run(averaged_info info ${WORK_DIR}/averaged.heed)
if(NOT average_rc EQUAL 0 OR NOT average_err MATCHES "the mean of 2 models" OR NOT averaged_info_out MATCHES "averaged = ")
  message(FATAL_ERROR "heed average: exit ${average_rc}\n${average_err}\n${averaged_info_out}")
endif()
run(average_mixed average ${WORK_DIR}/keep/update-4.heed ${WORK_DIR}/run/last.heed.missing -o ${WORK_DIR}/mixed.heed)
if(NOT average_mixed_rc EQUAL 1 OR EXISTS ${WORK_DIR}/mixed.heed)
  message(FATAL_ERROR "heed average with a missing model: exit ${average_mixed_rc}\n${average_mixed_err}")
endif()

# An ensemble of a model with itself translates as the model does; one whose vocabularies
# differ is refused, naming the file.
run(single translate -m ${WORK_DIR}/run/last.heed -i ${data}/valid.en --scores)
run(pair translate -m ${WORK_DIR}/run/last.heed -m ${WORK_DIR}/run/last.heed -i ${data}/valid.en --scores)
if(NOT pair_rc EQUAL 0 OR NOT pair_out STREQUAL single_out OR NOT pair_err MATCHES "ensemble of 2 models")
  message(FATAL_ERROR "heed translate -m A -m A: exit ${pair_rc}\n${pair_err}")
endif()
run(foreign translate -m ${WORK_DIR}/run/last.heed -m ${DATA_DIR}/en-de.heed -i ${data}/valid.en)
if(NOT foreign_rc EQUAL 1 OR NOT foreign_out STREQUAL "" OR NOT foreign_err MATCHES "en-de.heed cannot join an ensemble with .*last.heed: their vocabularies differ")
  message(FATAL_ERROR "heed translate with an ensemble of two vocabularies: exit ${foreign_rc}\n${foreign_err}")
endif()

# A bare name finds the model installed beside the default one (build/share/heed/ here); an
# unknown name fails naming it.
run(installed info en-de)
run(unknown_name info no-such-model)
if(NOT installed_rc EQUAL 0 OR NOT installed_out MATCHES "heed model, format" OR NOT installed_err MATCHES "using the installed model .*share/heed/en-de.heed"
   OR NOT unknown_name_rc EQUAL 1 OR NOT unknown_name_err MATCHES "no-such-model")
  message(FATAL_ERROR "heed info en-de: exit ${installed_rc}\n${installed_err}\n${unknown_name_err}")
endif()

# A model converted with a tuned length normalisation translates with it by default (its scores
# are those of --normalize 1.5 on the original), and --normalize on the command line wins.
run(tuned convert -m ${WORK_DIR}/run/last.heed -o ${WORK_DIR}/tuned.heed --precision f32 --normalize 1.5)
run(tuned_scores translate -m ${WORK_DIR}/tuned.heed -i ${data}/valid.en --scores)
run(explicit_scores translate -m ${WORK_DIR}/run/last.heed -i ${data}/valid.en --scores --normalize 1.5)
run(overridden translate -m ${WORK_DIR}/tuned.heed -i ${data}/valid.en --scores --normalize 0.6)
if(NOT tuned_rc EQUAL 0 OR NOT tuned_err MATCHES "length normalisation α 1.5"
   OR NOT tuned_scores_err MATCHES "length normalisation α 1.5 \\(the model's"
   OR NOT tuned_scores_out STREQUAL explicit_scores_out OR tuned_scores_out STREQUAL single_out
   OR NOT overridden_out STREQUAL single_out)
  message(FATAL_ERROR "heed convert --normalize: exit ${tuned_rc}\n${tuned_err}\n${tuned_scores_err}")
endif()

# A model converted for int8 translation is stored in int8 (format 2), says so, and translates so
# by default (one line per input line); --precision overrides it, and an unknown precision is refused.
run(int8 convert -m ${WORK_DIR}/run/last.heed -o ${WORK_DIR}/int8.heed --precision int8)
run(int8_info info ${WORK_DIR}/int8.heed)
if(NOT int8_rc EQUAL 0 OR NOT int8_info_out MATCHES "translate-precision=int8" OR NOT int8_info_out MATCHES "format 2"
   OR NOT int8_info_out MATCHES "weights stored as int8")
  message(FATAL_ERROR "heed convert --precision int8: exit ${int8_rc}\n${int8_err}${int8_info_out}")
endif()
run(int8_translate translate -m ${WORK_DIR}/int8.heed -i ${data}/valid.en)
string(REGEX MATCHALL "\n" int8_lines "${int8_translate_out}")
list(LENGTH int8_lines int8_count)
if(NOT int8_translate_rc EQUAL 0 OR NOT int8_count EQUAL 50 OR NOT int8_translate_err MATCHES "int8 matmuls|no fast int8")
  message(FATAL_ERROR "heed translate of an int8 model: exit ${int8_translate_rc}, ${int8_count} lines\n${int8_translate_err}")
endif()
run(as_f32 translate -m ${WORK_DIR}/int8.heed -i ${data}/valid.en --precision f32)
if(NOT as_f32_rc EQUAL 0 OR as_f32_err MATCHES "int8 matmuls")
  message(FATAL_ERROR "heed translate --precision f32 of an int8 model: exit ${as_f32_rc}\n${as_f32_err}")
endif()
run(fp8 translate -m ${WORK_DIR}/int8.heed -i ${data}/valid.en --precision fp8)
if(NOT fp8_rc EQUAL 1 OR NOT fp8_out STREQUAL "" OR NOT fp8_err MATCHES "--precision: unknown precision 'fp8' \\(f32, bf16 or int8\\)")
  message(FATAL_ERROR "heed translate --precision fp8: exit ${fp8_rc}\n${fp8_err}")
endif()

# Devices: cpu is the default; cuda without the backend or without a GPU is a clear error, before
# any work (with a GPU it translates, one line per line).
run(cuda --device cuda:0 translate -m ${WORK_DIR}/run/last.heed -i ${data}/valid.en)
if(cuda_rc EQUAL 0)
  string(REGEX MATCHALL "\n" cuda_lines "${cuda_out}")
  list(LENGTH cuda_lines cuda_count)
  if(NOT cuda_count EQUAL 50)
    message(FATAL_ERROR "heed --device cuda:0 translated 50 lines into ${cuda_count}")
  endif()
elseif(NOT cuda_rc EQUAL 1 OR NOT cuda_out STREQUAL "" OR NOT cuda_err MATCHES
       "device 'cuda:0': (this build of heed has no CUDA backend \\(devices: cpu\\)|this machine has 0 CUDA GPU\\(s\\) \\(devices: cpu \\(cuda built in, no GPU found\\)\\))")
  message(FATAL_ERROR "heed --device cuda:0: exit ${cuda_rc}\n${cuda_err}")
endif()
run(tpu --device tpu train --config ${WORK_DIR}/train.toml -o ${WORK_DIR}/tpu)
if(NOT tpu_rc EQUAL 1 OR NOT tpu_err MATCHES "device 'tpu' is not one of: cpu" OR EXISTS ${WORK_DIR}/tpu)
  message(FATAL_ERROR "heed --device tpu: exit ${tpu_rc}\n${tpu_err}")
endif()

# --resume of a directory that does not exist is an error, and makes no directory.
run(missing train --resume ${WORK_DIR}/no-such-run --train-src ${data}/train.en --train-tgt ${data}/train.de)
if(NOT missing_rc EQUAL 1 OR NOT missing_err MATCHES "no-such-run: no such directory" OR EXISTS ${WORK_DIR}/no-such-run)
  message(FATAL_ERROR "heed train --resume of a missing directory: exit ${missing_rc}\n${missing_err}")
endif()

# Resuming with a changed model or data option is refused, naming each option that differs.
file(SHA256 ${WORK_DIR}/run/checkpoint.state checkpoint_before)
run(changed --threads 1 train --resume ${WORK_DIR}/run --model-dim 64 --seed 7 --max-updates 6)
if(NOT changed_rc EQUAL 1 OR NOT changed_err MATCHES "--model-dim is 64 now but 32 in the checkpoint"
   OR NOT changed_err MATCHES "--seed is 7 now but 1")
  message(FATAL_ERROR "heed train --resume with other options: exit ${changed_rc}\n${changed_err}")
endif()

# --max-updates already reached: stop at once, no validation, the checkpoint untouched.
run(reached --threads 1 train --resume ${WORK_DIR}/run --max-updates 2)
file(SHA256 ${WORK_DIR}/run/checkpoint.state checkpoint_after)
if(NOT reached_rc EQUAL 0 OR NOT reached_err MATCHES "nothing to train" OR reached_err MATCHES "validation [0-9]+ at update"
   OR NOT checkpoint_before STREQUAL checkpoint_after)
  message(FATAL_ERROR "heed train --resume past --max-updates: exit ${reached_rc}\n${reached_err}")
endif()

# Resuming with only what may change: the stored options (data, model, vocabulary) are kept, and
# so are the validation options not given again (valid-bleu-sentences = 5 from train.toml).
run(more --threads 1 train --resume ${WORK_DIR}/run --max-updates 5)
if(NOT more_rc EQUAL 0 OR NOT more_err MATCHES "resuming from .* update 3" OR NOT more_err MATCHES "at update 5"
   OR NOT more_err MATCHES "valid-bleu-sentences=5")
  message(FATAL_ERROR "heed train --resume --max-updates 5: exit ${more_rc}\n${more_err}")
endif()

# Guided alignment: links for every pair (here each first word with the other's first word) teach
# the penultimate layer's head 0 (layer 0 of 1), which the model file records and align reads.
file(STRINGS ${data}/train.en train_lines)
list(LENGTH train_lines train_count)
string(REPEAT "0-0\n" ${train_count} links)
file(WRITE ${WORK_DIR}/train.links "${links}")
run(guided --threads 1 train --config ${WORK_DIR}/train.toml -o ${WORK_DIR}/guided --guided-alignment ${WORK_DIR}/train.links
    --guided-alignment-weight 0.5 --alignment-step shift)
if(NOT guided_rc EQUAL 0 OR NOT guided_err MATCHES "guided alignment: links for 200 of 200 pairs" OR NOT guided_err MATCHES "align-ce [0-9.]+")
  message(FATAL_ERROR "heed train --guided-alignment: exit ${guided_rc}\n${guided_err}")
endif()
run(guided_info -q info ${WORK_DIR}/guided/last.heed)
if(NOT guided_info_out MATCHES "alignment-layer = 0\nalignment-head = 0\nalignment-step = shift")
  message(FATAL_ERROR "heed info on a guided model shows no alignment head:\n${guided_info_out}")
endif()
# --reverse-model: a second model's links symmetrised with the first's; one line per pair.
run(reverse -q align -m ${WORK_DIR}/guided/last.heed --reverse-model ${WORK_DIR}/run/best.heed --src ${data}/valid.en
    --tgt ${data}/valid.de --symmetrize grow-diag-final-and)
string(REGEX MATCHALL "\n" newlines "${reverse_out}")
list(LENGTH newlines count)
if(NOT reverse_rc EQUAL 0 OR NOT count EQUAL 50)
  message(FATAL_ERROR "heed align --reverse-model: exit ${reverse_rc}, ${count} lines for 50\n${reverse_err}")
endif()
# A symmetrisation stored by convert is align's default; --symmetrize still overrides it.
run(sym convert -m ${WORK_DIR}/guided/last.heed -o ${WORK_DIR}/sym.heed --precision f32 --symmetrize intersection)
run(sym_align align -m ${WORK_DIR}/sym.heed --reverse-model ${WORK_DIR}/run/best.heed --src ${data}/valid.en --tgt ${data}/valid.de)
run(asked_align -q align -m ${WORK_DIR}/guided/last.heed --reverse-model ${WORK_DIR}/run/best.heed --src ${data}/valid.en
    --tgt ${data}/valid.de --symmetrize intersection)
run(overridden_align align -m ${WORK_DIR}/sym.heed --reverse-model ${WORK_DIR}/run/best.heed --src ${data}/valid.en
    --tgt ${data}/valid.de --symmetrize grow-diag-final-and)
if(NOT sym_rc EQUAL 0 OR NOT sym_align_rc EQUAL 0 OR NOT sym_align_out STREQUAL asked_align_out
   OR NOT sym_align_err MATCHES "symmetrised by intersection \\(the model's"
   OR NOT overridden_align_out STREQUAL reverse_out OR overridden_align_err MATCHES "the model's")
  message(FATAL_ERROR "heed convert --symmetrize, then align: exit ${sym_rc}/${sym_align_rc}\n${sym_err}${sym_align_err}")
endif()
run(bad_symmetrize convert -m ${WORK_DIR}/guided/last.heed -o ${WORK_DIR}/bad-sym.heed --symmetrize diagonal)
if(NOT bad_symmetrize_rc EQUAL 1 OR NOT bad_symmetrize_err MATCHES "--symmetrize must be intersection, union" OR EXISTS ${WORK_DIR}/bad-sym.heed)
  message(FATAL_ERROR "heed convert --symmetrize diagonal: exit ${bad_symmetrize_rc}\n${bad_symmetrize_err}")
endif()
file(WRITE ${WORK_DIR}/short.links "0-0\n")
run(short_links --threads 1 train --config ${WORK_DIR}/train.toml -o ${WORK_DIR}/short --guided-alignment ${WORK_DIR}/short.links)
if(NOT short_links_rc EQUAL 1 OR NOT short_links_err MATCHES "short.links has 1 lines but .*train.en has 200")
  message(FATAL_ERROR "heed train with too few alignment lines: exit ${short_links_rc}\n${short_links_err}")
endif()
run(no_links --threads 1 train --config ${WORK_DIR}/train.toml -o ${WORK_DIR}/no-links --alignment-layer 0)
if(NOT no_links_rc EQUAL 1 OR NOT no_links_err MATCHES "give the file too")
  message(FATAL_ERROR "heed train --alignment-layer without links: exit ${no_links_rc}\n${no_links_err}")
endif()

# Numbers nobody checked: refused before anything runs, naming the option and its range.
foreach(bad_option "--lr;nan" "--lr;-1" "--batch-tokens;-5" "--label-smoothing;1.5" "--dropout;inf")
  run(numeric train --train-src ${data}/train.en --train-tgt ${data}/train.de --vocab ${WORK_DIR}/joint.model
      -o ${WORK_DIR}/numeric ${bad_option})
  list(GET bad_option 0 name)
  if(numeric_rc EQUAL 0 OR NOT numeric_err MATCHES "${name}" OR NOT numeric_err MATCHES "must be a number"
     OR EXISTS ${WORK_DIR}/numeric)
    message(FATAL_ERROR "heed train ${bad_option}: exit ${numeric_rc}\n${numeric_err}")
  endif()
endforeach()

# Ctrl-C saves a checkpoint and exits 130; SIGTERM exits 143: scripts can tell it did not finish.
foreach(signal INT TERM)
  execute_process(COMMAND bash -c "'${HEED}' --threads 1 train --config '${WORK_DIR}/train.toml' --max-updates 100000 \
      --validate-every 100000 -o '${WORK_DIR}/signal-${signal}' 2> '${WORK_DIR}/signal.log' & pid=$!; \
      for i in $(seq 100); do grep -q 'validation data' '${WORK_DIR}/signal.log' && break; sleep 0.1; done; sleep 1; \
      kill -${signal} $pid; wait $pid; echo $?" OUTPUT_VARIABLE code OUTPUT_STRIP_TRAILING_WHITESPACE)
  file(READ ${WORK_DIR}/signal.log signal_log)
  if(signal STREQUAL "INT")
    set(expected 130)
  else()
    set(expected 143)
  endif()
  if(NOT code STREQUAL "${expected}" OR NOT EXISTS ${WORK_DIR}/signal-${signal}/checkpoint.state)
    message(FATAL_ERROR "heed train stopped by SIG${signal}: exit ${code}, expected ${expected}\n${signal_log}")
  endif()
  file(GLOB leftovers ${WORK_DIR}/signal-${signal}/.*.tmp.*)
  if(leftovers)
    message(FATAL_ERROR "heed train stopped by SIG${signal} left temporary files: ${leftovers}")
  endif()
endforeach()

# A disk too small for the checkpoints is found before training, not at the first save (needs
# root to mount a small tmpfs; skipped with a message otherwise).
file(MAKE_DIRECTORY ${WORK_DIR}/small-disk)
execute_process(COMMAND mount -t tmpfs -o size=256k tmpfs ${WORK_DIR}/small-disk RESULT_VARIABLE mounted OUTPUT_QUIET ERROR_QUIET)
if(mounted EQUAL 0)
  run(full --threads 1 train --config ${WORK_DIR}/train.toml -o ${WORK_DIR}/small-disk/run)
  execute_process(COMMAND umount ${WORK_DIR}/small-disk)
  if(NOT full_rc EQUAL 1 OR NOT full_err MATCHES "small-disk/run has [0-9.]+ [kMG]B free, but training needs about [0-9.]+ [kMG]B for")
    message(FATAL_ERROR "heed train onto a full disk: exit ${full_rc}\n${full_err}")
  endif()
else()
  message(STATUS "SKIPPED: the small-disk check needs root to mount a tmpfs")
endif()
