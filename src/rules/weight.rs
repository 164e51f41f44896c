//! How often a rule term is expected to occur in an article, for choosing
//! presearcher keys (Lucene Monitor's `TermWeightor` idea): a phrase is
//! indexed under its rarest word, an `AND` under its rarest operand, so a
//! rule like `"zqab minister"` is not a candidate for every article that
//! mentions a minister. Rarity is guessed without any data: a built-in list
//! of very frequent English and Russian words (general and news), then
//! length.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::text::fold;

/// Expected cost of a key: roughly how many articles in a thousand it
/// makes a rule a candidate for. Only the order matters.
pub(super) type Cost = u32;

/// A frequent word (or a prefix of one).
const COMMON: Cost = 1_000;
/// The language key: most articles have one of a few languages.
pub(super) const LANG: Cost = 5_000;
/// A source domain key.
pub(super) const SOURCE: Cost = 300;
/// A producer region tag key.
pub(super) const TAG: Cost = 100;

/// Cost of a whole word (`prefix == false`) or a prefix term, normalised.
pub(super) fn term_cost(text: &str, prefix: bool) -> Cost {
    let len = text.chars().count() as Cost;
    if prefix {
        let common = len < 4
            || FREQUENT
                .iter()
                .any(|w| w.len() > text.len() && w.starts_with(text));
        if common { COMMON } else { 40 / len.min(8) + 10 }
    } else if len <= 2 || FREQUENT.contains(text) {
        COMMON
    } else {
        // Longer words are rarer: 3 letters → 13, 8 or more → 5.
        40 / len.min(8)
    }
}

/// The frequent words, folded like rule words.
static FREQUENT: LazyLock<HashSet<String>> =
    LazyLock::new(|| WORDS.split_whitespace().map(fold).collect());

/// About 500 of the most frequent words of English (general and news
/// writing) and Russian.
const WORDS: &str = "
a about above according across act action actually add added after again against age ago agreed
air all almost along already also although always am american among amount an and announced
another any anyone anything are area areas around as ask asked at attack authorities available
away back bad bank based be became because become been before began behind being believe best
better between big bill billion black board body book both bring brought build building
business but buy by call called came campaign can capital car care case cases cent center centre
chance change chief child children china church cities citizens city claim claimed close
club come comes coming committee community companies company conference control could council
countries country county course court crisis current cut data day days deal death decision
deputy despite development did different director do does doing done down due during each
early east economic economy education election else end energy enough europe european even
evening ever every everything expected face fact family far federal few field figure final
financial find fire first five following food for force forces foreign form former found
four free friday from front full fund future game general get getting give given go going good
got government great group groups growth had half hand has have having he head health hear held
help her here high him his history hold home hospital hour hours house how however human
i if important in including increase industry information inside instead interest international
into investment is issue issues it its itself job jobs just keep killed kind know known land
large last late later law leader leaders least leave led left less let level life like likely
line list little live local long look lot low made main major make makes making man management
many market may me means media meeting member members men might military million minister
ministry minutes moment monday money month months more morning most move much must my name
national near need needed needs never new news next night no north not nothing now number of
off office officer officers official officials often oil old on once one only open or order
other others our out outside over own paid part parliament parties party past pay peace people
per percent period person place plan plans play played point police policy political power
president press price prices prime private problem process program programme project public put
quarter question rate rates rather reached read real reason received recent record region
regional report reported reports research result results return right rights rise run said
same saturday say saying says school season second secretary security see seen sector senior
service services set several share shares she should show side since six small so social some
someone something son south spokesman spokeswoman sports staff start started state statement
states still stock street strong study such sunday support sure system take taken taking talks
tax team term than that the their them then there these they thing things think third this
those though thought three through thursday time times to today together told too top total
town trade tuesday two under union united until up us use used very via vote war was water way
we wednesday week weeks well went were west what when where whether which while white who whole
why will with within without woman women work workers working world would year years yesterday
yet you young your
а без бы был была были было быть в вам вас весь во вот все всего всех вы где год года году
да даже для до его ее если есть еще же за и из или им их к как когда который которые кто ли
мы на над нам нас не него нет ни них но ну о об один он она они оно от по под после при про
раз с сам свои себя со так также там те тем то только том тот у уже чем что это этого этот я
россии президент правительство министр страны время заявил также года сообщил
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequent_words_cost_more_than_rare_ones() {
        assert!(term_cost("minister", false) > term_cost("zqabcd", false));
        assert!(term_cost("the", false) > term_cost("baku", false));
        assert!(term_cost("президент", false) > term_cost("карабах", false));
        assert!(term_cost("karabakh", false) < term_cost("baku", false));
        assert!(term_cost("gover", true) > term_cost("zqab", true));
        assert!(term_cost("ab", true) > term_cost("armen", true));
        const { assert!(LANG > COMMON) };
    }
}
